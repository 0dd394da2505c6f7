#if canImport(Glibc)
import Glibc
#endif
import CPosix

/// How many CPUs this process may really use, for sizing thread pools.
///
/// `sysconf(_SC_NPROCESSORS_ONLN)` counts every online CPU of the host: a container limited
/// to 2 CPUs on a 64-core host, or a process pinned with `taskset -c 0`, would run 64
/// compressing threads that take turns on 2 cores. This counts instead the CPUs in the
/// process's affinity mask (`sched_getaffinity`), capped by the CPU bandwidth quota of its
/// cgroup and every cgroup above it (v2 `cpu.max`, v1 `cpu.cfs_quota_us` /
/// `cpu.cfs_period_us`), rounded up: a quota of 1.5 CPUs gives 2 threads.
///
/// `SNAP_WORKERS`, a positive whole number, overrides it (`workers`).
public enum Processors {
    /// The number of worker threads a pool should run: `SNAP_WORKERS` when it is a whole
    /// number from 1 to 4096, otherwise `available`. Read once per process.
    public static let workers: Int = override(environment: getenv("SNAP_WORKERS").map { String(cString: $0) }) ?? available

    /// The CPUs this process may use: its affinity mask's count capped by its cgroup's CPU
    /// quota, at least 1. Read once per process.
    public static let available: Int = {
        let online = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let allowed = affinityCount() ?? online
        let quota = CgroupCPULimit.limit(procSelfCgroup: readText("/proc/self/cgroup") ?? "", read: readText)
        return max(1, min(allowed, quota ?? allowed))
    }()

    /// `SNAP_WORKERS`'s value as a worker count; `nil` when unset or not a whole number
    /// from 1 to 4096 (such a value is ignored).
    public static func override(environment value: String?) -> Int? {
        guard let value, let n = Int(value.trimmingWhitespace), (1...4096).contains(n) else { return nil }
        return n
    }

    /// The number of CPUs in this process's affinity mask; `nil` when the kernel will not say.
    public static func affinityCount() -> Int? {
        // The kernel wants a mask at least as large as its own CPU limit: start at glibc's
        // 1024 bits and grow on EINVAL (machines configured for more CPUs).
        var bytes = 128
        while bytes <= 1 << 16 {
            var mask = [UInt8](repeating: 0, count: bytes)
            let status = mask.withUnsafeMutableBytes { sched_getaffinity(0, $0.count, $0.baseAddress) }
            if status == 0 {
                // CPU_COUNT is a C macro: count the mask's bits here.
                let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
                return count > 0 ? count : nil
            }
            guard errno == EINVAL else { return nil }
            bytes *= 2
        }
        return nil
    }

    /// A small text file (under /proc or /sys), or `nil` when it cannot be read.
    static func readText(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n <= 0 { break }
            bytes += buffer[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    var trimmingWhitespace: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
