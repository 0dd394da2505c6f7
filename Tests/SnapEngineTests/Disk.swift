#if canImport(Glibc)
import Glibc
#endif
import SnapEngine

/// A failed POSIX call made by a test while building or reading a folder.
struct DiskError: Error, CustomStringConvertible {
    let call: String
    let path: [UInt8]
    let code: Int32
    var description: String { "\(call) \(PathBytes.display(path)): \(String(cString: strerror(code)))" }
}

/// Raw-byte file system helpers, so tests can use names that are not UTF-8.
enum Disk {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private static func check(_ result: Int32, _ call: String, _ path: [UInt8]) throws {
        if result != 0 { throw DiskError(call: call, path: path, code: errno) }
    }

    static func write(_ path: [UInt8], _ data: [UInt8]) throws {
        let fd = PathBytes.withCString(path) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw DiskError(call: "open", path: path, code: errno) }
        defer { close(fd) }
        var done = 0
        while done < data.count {
            let n = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            guard n > 0 else { throw DiskError(call: "write", path: path, code: errno) }
            done += n
        }
    }

    static func read(_ path: [UInt8]) throws -> [UInt8] {
        let fd = PathBytes.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw DiskError(call: "open", path: path, code: errno) }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            guard n >= 0 else { throw DiskError(call: "read", path: path, code: errno) }
            if n == 0 { return out }
            out += buffer[..<n]
        }
    }

    static func mkdir(_ path: [UInt8]) throws {
        try check(PathBytes.withCString(path) { Glibc.mkdir($0, 0o755) }, "mkdir", path)
    }

    static func symlink(_ target: [UInt8], at path: [UInt8]) throws {
        try check(PathBytes.withCString(path) { p in PathBytes.withCString(target) { Glibc.symlink($0, p) } }, "symlink", path)
    }

    static func link(_ existing: [UInt8], _ path: [UInt8]) throws {
        try check(PathBytes.withCString(path) { p in PathBytes.withCString(existing) { Glibc.link($0, p) } }, "link", path)
    }

    static func mkfifo(_ path: [UInt8]) throws {
        try check(PathBytes.withCString(path) { Glibc.mkfifo($0, 0o640) }, "mkfifo", path)
    }

    static func chmod(_ path: [UInt8], _ mode: mode_t) throws {
        try check(PathBytes.withCString(path) { Glibc.chmod($0, mode) }, "chmod", path)
    }

    /// Sets the modification (and access) time, not following symlinks.
    static func setMtime(_ path: [UInt8], seconds: Int, nanoseconds: Int = 0) throws {
        let times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
        try check(PathBytes.withCString(path) { utimensat(AT_FDCWD, $0, times, AT_SYMLINK_NOFOLLOW) }, "utimensat", path)
    }

    static func lstat(_ path: [UInt8]) throws -> stat {
        var st = stat()
        try check(PathBytes.withCString(path) { Glibc.lstat($0, &st) }, "lstat", path)
        return st
    }

    static func exists(_ path: [UInt8]) -> Bool { (try? lstat(path)) != nil }

    /// The names in a folder, sorted by bytes, without `.` and `..`.
    static func names(_ path: [UInt8]) throws -> [[UInt8]] {
        guard let dir = PathBytes.withCString(path, { opendir($0) }) else { throw DiskError(call: "opendir", path: path, code: errno) }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [46] && name != [46, 46] { names.append(name) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Everything below `root`, keyed by path relative to `root` (raw bytes, `/`-separated).
    static func listing(_ root: [UInt8]) throws -> [[UInt8]: DiskEntry] {
        var result: [[UInt8]: DiskEntry] = [:]
        func visit(_ path: [UInt8], relative: [UInt8]) throws {
            for name in try names(path) {
                let child = PathBytes.join(path, name)
                let rel = relative.isEmpty ? name : relative + [PathBytes.slash] + name
                let entry = try DiskEntry(at: child)
                result[rel] = entry
                if entry.kind == .directory { try visit(child, relative: rel) }
            }
        }
        try visit(root, relative: [])
        return result
    }
}

/// What a test compares about one entry after a restore: kind, content, permissions and modification time.
struct DiskEntry: Equatable, CustomStringConvertible {
    enum Kind: Equatable {
        case file([UInt8])
        case directory
        case symlink([UInt8])
        case fifo
        case other(UInt32)
    }

    var kind: Kind
    var mode: UInt32
    var mtime: Timestamp

    init(at path: [UInt8]) throws {
        let st = try Disk.lstat(path)
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .file(try Disk.read(path))
        case S_IFDIR: kind = .directory
        case S_IFLNK:
            var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = PathBytes.withCString(path) { p in
                buffer.withUnsafeMutableBytes { readlink(p, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
            }
            guard n >= 0 else { throw DiskError(call: "readlink", path: path, code: errno) }
            kind = .symlink(Array(buffer[..<n]))
        case S_IFIFO: kind = .fifo
        default: kind = .other(UInt32(st.st_mode & S_IFMT))
        }
        mode = UInt32(st.st_mode) & 0o7777
        mtime = Timestamp(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: UInt32(st.st_mtim.tv_nsec))
    }

    var description: String {
        let what: String
        switch kind {
        case .file(let data): what = "file(\(data.count) bytes)"
        case .directory: what = "directory"
        case .symlink(let target): what = "symlink(\(PathBytes.display(target)))"
        case .fifo: what = "fifo"
        case .other(let type): what = "other(\(String(type, radix: 8)))"
        }
        return "\(what) mode \(String(mode, radix: 8)) mtime \(mtime.seconds).\(mtime.nanoseconds)"
    }
}
