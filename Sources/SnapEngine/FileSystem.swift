#if canImport(Glibc)
import Glibc
#endif
import CPosix
import Synchronization

/// The POSIX calls the archiver and restorer make, with errors as messages.
enum FileSystem {
    struct Failure: Error, CustomStringConvertible {
        let code: Int32
        /// A restore could not free the name for a new file: what was there is left as it was.
        var existingKept = false
        /// The file could not be created: nothing was written, and nothing removed.
        var creating = false
        /// A folder opened by its path was not the one listed (`ListedEntry`).
        var replaced = false
        var description: String {
            replaced ? "it was replaced by another folder after it was listed (renamed over, or a folder above it swapped for a symlink); "
                + "its content is left out, the next backup reads it" : String(cString: strerror(code))
        }
    }

    /// File system types (`statfs`'s `f_type`) whose inode numbers may change while a file
    /// stays: FUSE (a file system may number each lookup anew; exfat-fuse does), FAT and
    /// exFAT (numbers made up each time an inode is read into memory), and SMB without
    /// server inode numbers.
    private static let renumberingTypes: Set<Int> = [
        0x6573_5546,  // FUSE_SUPER_MAGIC
        0x4D44,  // MSDOS_SUPER_MAGIC (FAT, vfat)
        0x2011_BAB0,  // EXFAT_SUPER_MAGIC
        0xFF53_4D42, 0xFE53_4D42, 0x517B,  // CIFS_SUPER_MAGIC, SMB2_SUPER_MAGIC, SMB_SUPER_MAGIC
    ]

    /// overlayfs: a folder's inode number does not persist when its layers lie on different
    /// file systems and `xino` is off (the kernel's overlayfs.rst, "Inode properties"); a
    /// file's does.
    private static let overlayType = 0x794C_7630  // OVERLAYFS_SUPER_MAGIC

    /// Whether the file system holding `descriptor` keeps the inode number of a file (or,
    /// with `folder`, of a folder) for as long as it exists (ext4, xfs, btrfs, tmpfs, NFS and
    /// most others), so that another number means another entry (`ListedEntry.isOpened`).
    /// Asked only when a number differs; a file system that cannot be asked counts as keeping
    /// them, which leaves the entry out with a warning rather than risk storing another's.
    static func keepsInodeNumbers(_ descriptor: Int32, folder: Bool = false) -> Bool {
        var info = statfs()
        guard fstatfs(descriptor, &info) == 0 else { return true }
        return keepsInodeNumbers(fileSystemType: Int(info.f_type), folder: folder)
    }

    /// `keepsInodeNumbers` by `statfs`'s type.
    static func keepsInodeNumbers(fileSystemType type: Int, folder: Bool) -> Bool {
        !renumberingTypes.contains(type) && !(folder && type == overlayType)
    }

    static func lstat(_ path: [UInt8]) throws(Failure) -> stat {
        var st = stat()
        let ok = PathBytes.withCString(path) { Glibc.lstat($0, &st) }
        guard ok == 0 else { throw Failure(code: errno) }
        return st
    }

    /// `stat` of what `path` leads to, following symbolic links.
    static func statFollowingLinks(_ path: [UInt8]) throws(Failure) -> stat {
        var st = Glibc.stat()
        let ok = PathBytes.withCString(path) { fstatat(AT_FDCWD, $0, &st, 0) }
        guard ok == 0 else { throw Failure(code: errno) }
        return st
    }

    /// The raw names in a directory, sorted by bytes, without `.` and `..`.
    static func entries(_ path: [UInt8]) throws(Failure) -> [[UInt8]] {
        try Directory(path).names()
    }

    /// An open directory: its names, and `lstat` of its entries relative to it, which
    /// spares the kernel a lookup of every component of the full path per entry.
    /// Closed when released; keep it no longer than one folder's listing, so that a deep
    /// tree does not hold a descriptor per level.
    final class Directory {
        private let dir: OpaquePointer

        /// - Parameter listed: the folder as its parent's listing saw it; opening a path that
        ///   now leads to another folder throws a `replaced` failure.
        init(_ path: [UInt8], listed: ListedEntry? = nil) throws(Failure) {
            guard let dir = PathBytes.withCString(path, { opendir($0) }) else { throw Failure(code: errno) }
            if let listed {
                var st = stat()
                let statted = fstat(dirfd(dir), &st) == 0
                let code = errno
                guard statted, listed.isOpened(st, renumbers: !FileSystem.keepsInodeNumbers(dirfd(dir), folder: true)) else {
                    closedir(dir)
                    throw statted ? Failure(code: ESTALE, replaced: true) : Failure(code: code)
                }
            }
            self.dir = dir
        }

        deinit { closedir(dir) }

        /// The raw names, sorted by bytes, without `.` and `..`.
        func names() throws(Failure) -> [[UInt8]] {
            // `Int.max` names never come.
            try names(atMost: .max) ?? []
        }

        /// The raw names, sorted by bytes, without `.` and `..`; `nil` as soon as there are
        /// more than `limit` (the rest is not read).
        func names(atMost limit: Int) throws(Failure) -> [[UInt8]]? {
            var names: [[UInt8]] = []
            while true {
                errno = 0
                guard let entry = readdir(dir) else {
                    if errno != 0 { throw Failure(code: errno) }
                    break
                }
                let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                if name == [46] || name == [46, 46] { continue }
                guard names.count < limit else { return nil }
                names.append(name)
            }
            return names.sorted { $0.lexicographicallyPrecedes($1) }
        }

        /// `lstat` of the entry `name`.
        func lstat(_ name: [UInt8]) throws(Failure) -> stat {
            try FileSystem.lstat(name, in: descriptor)
        }

        /// The folder's descriptor, valid while this object lives.
        var descriptor: Int32 { dirfd(dir) }
    }

    /// `lstat` of the entry `name` of the open folder `directory` (any thread may call it).
    static func lstat(_ name: [UInt8], in directory: Int32) throws(Failure) -> stat {
        var st = stat()
        let ok = PathBytes.withCString(name) { fstatat(directory, $0, &st, AT_SYMLINK_NOFOLLOW) }
        guard ok == 0 else { throw Failure(code: errno) }
        return st
    }

    static func readlink(_ path: [UInt8]) throws(Failure) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = PathBytes.withCString(path) { p in
            buffer.withUnsafeMutableBufferPointer { Glibc.readlink(p, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
        }
        guard n >= 0 else { throw Failure(code: errno) }
        return Array(buffer[..<n])
    }

    /// The extended attributes of an entry that could be read, sorted by name, and those
    /// whose value could not be (with the `errno`), which the caller names in a warning.
    struct ExtendedAttributes: Sendable {
        var attributes: [ExtendedAttribute] = []
        var unreadable: [(name: [UInt8], code: Int32)] = []
    }

    /// Extended attributes of `path` (not following symlinks). One removed between the
    /// listing and its read is left out; one whose value cannot be read (larger than the
    /// 64 KiB the system call gives, as an NTFS stream through ntfs-3g can be) is `unreadable`.
    static func xattrs(_ path: [UInt8]) throws(Failure) -> ExtendedAttributes {
        try PathBytes.withCString(path) { p in
            readXattrs(list: { llistxattr(p, $0, $1) }, get: { lgetxattr(p, $0, $1, $2) })
        }.get()
    }

    /// Extended attributes of the entry `name` of the open folder `directory`, found by the
    /// walk at `path`; as `xattrs(_:)`.
    ///
    /// Read relative to the open folder, not by `path`: a backup run as root reads a user's
    /// folder, and the user could swap a folder on `path`'s way for a symlink between the
    /// folder's listing and this read, so that a path read gave another file's attributes
    /// (a root-only file's) under the user's name. `listxattrat`/`getxattrat` (Linux 6.13)
    /// take the folder; before them `/proc/self/fd/N/NAME` reaches it the same way. Only
    /// where neither can (no `/proc`) is `path` read, as before.
    static func xattrs(_ name: [UInt8], in directory: Int32, path: [UInt8]) throws(Failure) -> ExtendedAttributes {
        if XattrRoute.relativeCallsWork.load(ordering: .relaxed) {
            let read = Result { () throws(Failure) in try xattrs(name, in: directory, path: path, through: .relativeCalls) }
            // ENOSYS: an older kernel or gVisor; EPERM: a seccomp filter that does not know
            // the calls (listing attributes never fails so otherwise). The next route says
            // what a real failure is.
            guard case .failure(let failure) = read, failure.code == ENOSYS || failure.code == EPERM else { return try read.get() }
            XattrRoute.relativeCallsWork.store(false, ordering: .relaxed)
        }
        return try xattrs(name, in: directory, path: path, through: XattrRoute.procFolders ? .procFolder : .path)
    }

    /// The ways `xattrs(_:in:path:)` reads, best first.
    enum XattrRoute {
        /// `listxattrat` and `getxattrat` on the folder's descriptor.
        case relativeCalls
        /// `/proc/self/fd/N/NAME`, N the folder's descriptor.
        case procFolder
        /// The path, where `/proc` is not mounted.
        case path

        /// Whether the kernel has `listxattrat`, until a call says it has not.
        static let relativeCallsWork = Atomic<Bool>(true)
        static let procFolders = access("/proc/self/fd", F_OK) == 0
    }

    /// `xattrs(_:in:path:)` by the one route given (tests reach each).
    static func xattrs(_ name: [UInt8], in directory: Int32, path: [UInt8], through route: XattrRoute) throws(Failure) -> ExtendedAttributes {
        switch route {
        case .relativeCalls:
            return try PathBytes.withCString(name) { n in
                readXattrs(list: { cposix_listxattrat(directory, n, $0, $1) }, get: { cposix_getxattrat(directory, n, $0, $1, $2) })
            }.get()
        case .procFolder: return try xattrs(Array("/proc/self/fd/\(directory)/".utf8) + name)
        case .path: return try xattrs(path)
        }
    }

    /// The listing and the reads every route shares: `list(buffer, size)` answers as
    /// `llistxattr`, `get(attribute, buffer, size)` as `lgetxattr`.
    private static func readXattrs(list: (UnsafeMutablePointer<CChar>?, Int) -> Int,
                                   get: (UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int) -> Result<ExtendedAttributes, Failure> {
        let listSize = list(nil, 0)
        if listSize < 0 {
            if errno == ENOTSUP || errno == ENODATA { return .success(ExtendedAttributes()) }
            return .failure(Failure(code: errno))
        }
        if listSize == 0 { return .success(ExtendedAttributes()) }
        var names = [UInt8](repeating: 0, count: listSize)
        let got = names.withUnsafeMutableBufferPointer { list(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
        guard got >= 0 else { return .failure(Failure(code: errno)) }
        var result = ExtendedAttributes()
        for name in names[..<got].split(separator: 0) {
            let nameBytes = Array(name)
            let value: Result<[UInt8], Failure> = PathBytes.withCString(nameBytes) { n in
                let size = get(n, nil, 0)
                guard size >= 0 else { return .failure(Failure(code: errno)) }
                var v = [UInt8](repeating: 0, count: size + 1)
                let read = v.withUnsafeMutableBytes { get(n, $0.baseAddress, size + 1) }
                guard read >= 0 else { return .failure(Failure(code: errno)) }
                return .success(Array(v[..<read]))
            }
            switch value {
            case .success(let bytes): result.attributes.append(ExtendedAttribute(name: nameBytes, value: bytes))
            case .failure(let failure) where failure.code == ENODATA: break  // removed since the listing
            case .failure(let failure): result.unreadable.append((nameBytes, failure.code))
            }
        }
        result.attributes.sort { $0.name.lexicographicallyPrecedes($1.name) }
        return .success(result)
    }

    static func nodeType(_ mode: mode_t) -> NodeType? {
        switch mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        case S_IFIFO: return .fifo
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        case S_IFSOCK: return .socket
        default: return nil
        }
    }
}

extension Node {
    /// A node for `name` from its `lstat` result, without content, subtree or link target.
    init(name: [UInt8], type: NodeType, stat st: stat, owners: UserDatabase) {
        self.init(name: name, type: type,
                  mode: UInt32(st.st_mode) & 0o7777, uid: st.st_uid, gid: st.st_gid,
                  user: owners.userName(st.st_uid), group: owners.groupName(st.st_gid),
                  mtime: Timestamp(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: UInt32(st.st_mtim.tv_nsec)),
                  ctime: Timestamp(seconds: Int64(st.st_ctim.tv_sec), nanoseconds: UInt32(st.st_ctim.tv_nsec)),
                  inode: UInt64(st.st_ino), device: UInt64(st.st_dev), links: UInt64(st.st_nlink),
                  rdev: type == .characterDevice || type == .blockDevice ? UInt64(st.st_rdev) : 0,
                  size: type == .file ? UInt64(st.st_size) : 0)
    }
}
