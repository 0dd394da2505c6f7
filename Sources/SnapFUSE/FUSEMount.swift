import CFuseShim
import SnapEngine
#if canImport(Glibc)
import Glibc
#endif

/// Serves a `SnapshotFileSystem` at a mountpoint through libfuse3, loaded on first use.
public enum FUSEMount {
    /// Options of the mount itself (what `mount -o` would say).
    public struct Options: Sendable {
        /// Let other users than the one mounting see the files (`allow_other`; for non-root
        /// users it needs `user_allow_other` in /etc/fuse.conf).
        public var allowOther = false
        /// Let the kernel check permissions from the stored modes and owners.
        public var defaultPermissions = true
        /// Seconds the kernel keeps names and attributes before asking again.
        public var cacheSeconds: Double = 10
        /// The name shown as the mount's source (in `mount` and /proc/mounts).
        public var sourceName = "snap"
        public init() {}
    }

    /// Why a mount cannot start, in one line each.
    public enum Problem: Error, CustomStringConvertible {
        case noDevice
        case noLibrary(String)
        case mountpointMissing(String)
        case notAFolder(String)
        case staleMountpoint(String)
        case alreadyMounted(String)
        case failed(String, status: Int32)

        public var description: String {
            switch self {
            case .noDevice:
                return "FUSE is not available here: /dev/fuse is missing or not usable (load the fuse module; in a container, pass --device /dev/fuse)"
            case let .noLibrary(reason):
                return "cannot load libfuse3 (\(reason)); install it (Debian: apt-get install fuse3)"
            case let .mountpointMissing(path):
                return "\(path) does not exist; create the folder to mount on first"
            case let .notAFolder(path):
                return "\(path) is not a folder"
            case let .staleMountpoint(path):
                return "\(path) is a stale mount left by a process that ended; clear it with 'fusermount3 -u \(path)' and mount again"
            case let .alreadyMounted(path):
                return "\(path) already has a FUSE mount; unmount it first ('fusermount3 -u \(path)')"
            case let .failed(path, status):
                return "mounting \(path) failed (libfuse status \(status)); see the message above"
            }
        }
    }

    /// Checks that FUSE can be used and `mountpoint` can take a mount, without mounting.
    public static func check(mountpoint: String) throws {
        guard access("/dev/fuse", R_OK | W_OK) == 0 else { throw Problem.noDevice }
        var error = [CChar](repeating: 0, count: 512)
        guard snap_fuse_load(&error, error.count) == 0 else {
            throw Problem.noLibrary(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        // statvfs, unlike stat, always reaches the file system: the kernel may answer stat on
        // a dead FUSE mount from its cache.
        var fs = statvfs()
        if statvfs(mountpoint, &fs) != 0 && errno == ENOTCONN { throw Problem.staleMountpoint(mountpoint) }
        var st = stat()
        if stat(mountpoint, &st) != 0 {
            if errno == ENOTCONN { throw Problem.staleMountpoint(mountpoint) }
            throw Problem.mountpointMissing(mountpoint)
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw Problem.notAFolder(mountpoint) }
        if isFUSEMountpoint(mountpoint) { throw Problem.alreadyMounted(mountpoint) }
    }

    /// Whether /proc/self/mountinfo lists `path` (made absolute) as a FUSE mount.
    static func isFUSEMountpoint(_ path: String) -> Bool {
        guard let resolved = realpath(path, nil) else { return false }
        let absolute = String(cString: resolved)
        free(resolved)
        guard let file = fopen("/proc/self/mountinfo", "r") else { return false }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER"
            let fields = String(cString: line).split(separator: " ")
            guard fields.count > 4, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
            if unescape(fields[4]) == absolute && fields[dash + 1].hasPrefix("fuse") { return true }
        }
        return false
    }

    /// mountinfo writes space, tab, newline and backslash as `\ooo`.
    private static func unescape(_ field: Substring) -> String {
        var bytes: [UInt8] = [], raw = Array(field.utf8), i = 0
        while i < raw.count {
            if raw[i] == 92, i + 3 < raw.count, let value = UInt8(String(decoding: raw[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(raw[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Mounts `fileSystem` at `mountpoint` and serves it, on several threads, until it is
    /// unmounted (`fusermount3 -u`, `umount`, or `unmount` from another thread).
    ///
    /// - Throws: `Problem` when FUSE cannot be used or the mount fails.
    public static func serve(_ fileSystem: SnapshotFileSystem, at mountpoint: String, options: Options) throws {
        try check(mountpoint: mountpoint)
        var mountOptions = ["ro", "max_threads=16", "fsname=" + String(options.sourceName.map { $0 == "," ? "_" : $0 }), "subtype=snap"]
        if options.allowOther { mountOptions.append("allow_other") }
        if options.defaultPermissions { mountOptions.append("default_permissions") }
        let arguments = ["snap", mountpoint, "-f", "-o", mountOptions.joined(separator: ",")]
        var operations = snap_fuse_operations(
            getattr: fuseGetattr, readlink: fuseReadlink, readdir: fuseReaddir, open: fuseOpen, read: fuseRead,
            release: fuseRelease, getxattr: fuseGetxattr, listxattr: fuseListxattr, stored_bytes: fuseStoredBytes)
        servedFileSystem.withLock { $0 = fileSystem }
        defer { servedFileSystem.withLock { $0 = nil } }
        var cArguments = arguments.map { strdup($0) }
        defer { cArguments.forEach { free($0) } }
        let status = cArguments.withUnsafeMutableBufferPointer { argv in
            snap_fuse_run(Int32(argv.count), argv.baseAddress, &operations, options.cacheSeconds)
        }
        guard status == 0 else { throw Problem.failed(mountpoint, status: status) }
    }

    /// Ends `serve` from another thread by unmounting `mountpoint`: at once when nothing in
    /// it is open, else lazily (the folder disappears now; the call never waits).
    ///
    /// The loop is not told to stop: it ends by itself when the kernel ends the connection,
    /// which a lazy unmount does only once the last open file is closed, so that a copy
    /// reading from the mount when Ctrl-C comes is served to its end. (Stopping the loop at
    /// once failed those reads with "Transport endpoint is not connected".) Only when the
    /// folder cannot be unmounted at all is the loop stopped here.
    /// - Returns: `false` when the mountpoint could not be unmounted.
    @discardableResult
    public static func unmount(_ mountpoint: String) -> Bool {
        let unmounted: Bool
        if geteuid() == 0 {
            unmounted = umount2(mountpoint, 0) == 0 || umount2(mountpoint, Int32(MNT_DETACH)) == 0
        } else {
            unmounted = run(["fusermount3", "-u", "-q", mountpoint]) || run(["fusermount3", "-u", "-z", "-q", mountpoint])
        }
        if !unmounted { snap_fuse_exit() }
        return unmounted
    }

    private static func run(_ arguments: [String]) -> Bool {
        var pid: pid_t = 0
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        guard posix_spawnp(&pid, arguments[0], nil, nil, &cArguments, environ) == 0 else { return false }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status == 0
    }
}
