/// The CPU bandwidth quota that Linux control groups put on a process, read from the text
/// of the files that say so. Pure functions of that text, so that each format is tested
/// with fixed strings; `Processors` passes in the real files.
///
/// A quota is a share of CPU time per period: 200000 µs every 100000 µs is two CPUs. A
/// process is limited by its own cgroup and by every cgroup above it, so the smallest
/// quota on the way to the root counts. Both hierarchies are looked at (a hybrid system
/// mounts v1 controllers beside the v2 tree); whatever cannot be read or parsed is ignored.
public enum CgroupCPULimit {
    /// Where the cgroup file systems are mounted (systemd's and Docker's layout).
    public static let mountPoint = "/sys/fs/cgroup"

    /// The whole number of CPUs the quotas allow, rounded up and at least 1; `nil` when no
    /// quota applies.
    ///
    /// - Parameters:
    ///   - procSelfCgroup: the text of `/proc/self/cgroup`.
    ///   - read: the text of a file by absolute path, or `nil` when it cannot be read.
    public static func limit(procSelfCgroup: String, read: (String) -> String?) -> Int? {
        var limits: [Int] = []
        let memberships = self.memberships(procSelfCgroup)
        if let unified = memberships.first(where: { $0.hierarchy == "0" && $0.controllers.isEmpty }) {
            for folder in ancestors(unified.path) {
                if let text = read(join(mountPoint, folder, "cpu.max")), let n = cpus(cpuMax: text) { limits.append(n) }
            }
        }
        if let cpu = memberships.first(where: { $0.controllers.contains("cpu") }) {
            // Mounted as "cpu,cpuacct" with "cpu" a link to it, or as "cpu" alone.
            let mounts = Set([cpu.controllers.joined(separator: ","), "cpu"]).sorted()
            for mount in mounts {
                for folder in ancestors(cpu.path) {
                    let base = join(mountPoint + "/" + mount, folder, "")
                    if let quota = read(base + "cpu.cfs_quota_us"), let period = read(base + "cpu.cfs_period_us"),
                       let n = cpus(cfsQuota: quota, period: period) {
                        limits.append(n)
                    }
                }
            }
        }
        return limits.min()
    }

    /// One line of `/proc/self/cgroup`: `hierarchy-ID:controller,list:/path`. The v2 tree
    /// is hierarchy 0 with an empty controller list.
    public struct Membership: Equatable, Sendable {
        public let hierarchy: String
        public let controllers: [String]
        public let path: String
    }

    /// The lines of `/proc/self/cgroup` that have the expected three fields and an absolute path.
    public static func memberships(_ text: String) -> [Membership] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[2].hasPrefix("/") else { return nil }
            // v1 named hierarchies ("name=systemd") are not controllers.
            let controllers = fields[1].split(separator: ",").map(String.init).filter { !$0.hasPrefix("name=") }
            return Membership(hierarchy: String(fields[0]), controllers: controllers, path: String(fields[2]))
        }
    }

    /// CPUs allowed by a v2 `cpu.max` (`$MAX $PERIOD`, where `$MAX` is `max` for no limit).
    public static func cpus(cpuMax text: String) -> Int? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]) else { return nil }
        return cpus(quota: quota, period: period)
    }

    /// CPUs allowed by v1's `cpu.cfs_quota_us` (`-1` for no limit) and `cpu.cfs_period_us`.
    public static func cpus(cfsQuota: String, period: String) -> Int? {
        guard let quota = Int(cfsQuota.trimmingWhitespace), let period = Int(period.trimmingWhitespace) else { return nil }
        return cpus(quota: quota, period: period)
    }

    /// `quota / period` rounded up, at least 1; `nil` when either is not positive.
    public static func cpus(quota: Int, period: Int) -> Int? {
        guard quota > 0, period > 0 else { return nil }
        return max(1, quota / period + (quota % period == 0 ? 0 : 1))
    }

    /// A cgroup path and every folder above it: `/a/b` gives `/a/b`, `/a`, `/`.
    static func ancestors(_ path: String) -> [String] {
        var parts = path.split(separator: "/").map(String.init)
        var result: [String] = []
        while !parts.isEmpty {
            result.append("/" + parts.joined(separator: "/"))
            parts.removeLast()
        }
        return result + ["/"]
    }

    private static func join(_ mount: String, _ folder: String, _ file: String) -> String {
        (folder == "/" ? mount : mount + folder) + "/" + file
    }
}
