#if canImport(Glibc)
import Glibc
#endif
import CPosix

/// Sets a restored entry's owner, extended attributes, mode and times, on an open
/// descriptor when there is one (no path look-ups) or by path otherwise.
///
/// Owner and group names are mapped to this host's IDs, each name looked up once (unless
/// `numericOwners`: then the stored numbers are set).
///
/// On an entry that was there before the restore, extended attributes the snapshot does not
/// have are removed where a backup would have stored them and the restore owns them:
/// `user.*`, `trusted.*` and the ACLs (`system.posix_acl_access`, `…_default`). Otherwise a
/// restore over a tree kept an ACL or attribute added since the backup, and a folder's
/// default ACL went on granting its rights to every file made in it. `security.*`
/// (SELinux labels, file capabilities) is left as the system set it.
final class MetadataWriter: Sendable {
    private let restoreOwnership: Bool
    private let numericOwners: Bool
    private let euid = geteuid()
    private let egid = getegid()
    private let owners = UserDatabase()

    /// What is already true of a file this restore has just created.
    struct NewFile {
        /// It was created with the node's mode, and the umask did not change it.
        let modeIsFinal: Bool
        /// It belongs to this process's user and group (no set-group-ID parent).
        let ownerIsOurs: Bool
    }

    init(restoreOwnership: Bool, numericOwners: Bool = false) {
        self.restoreOwnership = restoreOwnership
        self.numericOwners = numericOwners
    }

    /// Applies `node`'s metadata to `path` (or `fd`, open on it), leaving out what
    /// `created` says is already so, and the times where `times` is false; returns one
    /// message naming the entry by `snapshotPath` and everything that failed, or none.
    /// `wasThere`: the entry was in the target before this restore and is kept (only then
    /// are its attributes listed, for those the snapshot lacks).
    func apply(_ node: Node, snapshotPath: [UInt8], path: UnsafePointer<CChar>, fd: Int32?, created: NewFile? = nil,
               wasThere: Bool = false, times setsTimes: Bool = true) -> [String] {
        var failures: [(part: Part, code: Int32)] = []
        func problem(_ part: Part) { failures.append((part, errno)) }
        let isLink = node.type == .symlink
        if restoreOwnership {
            let uid = numericOwners ? node.uid : owners.userID(named: node.user) ?? node.uid
            let gid = numericOwners ? node.gid : owners.groupID(named: node.group) ?? node.gid
            if !(created?.ownerIsOurs == true && uid == euid && gid == egid) {
                let ok = fd.map { fchown($0, uid, gid) } ?? lchown(path, uid, gid)
                if ok != 0 { problem(.owner) }
            }
        }
        if wasThere {
            for name in Self.attributeNames(path: path, fd: fd) where Self.isRestoreOwned(name) && !node.xattrs.contains(where: { $0.name == name }) {
                let ok = PathBytes.withCString(name) { n in fd.map { fremovexattr($0, n) } ?? lremovexattr(path, n) }
                if ok != 0 && errno != ENODATA { problem(.removal(PathBytes.display(name))) }
            }
        }
        for x in node.xattrs {
            let ok = PathBytes.withCString(x.name) { name in
                x.value.withUnsafeBytes { value in
                    fd.map { fsetxattr($0, name, value.baseAddress, value.count, 0) }
                        ?? lsetxattr(path, name, value.baseAddress, value.count, 0)
                }
            }
            if ok != 0 { problem(.attribute(PathBytes.display(x.name))) }
        }
        if !isLink && created?.modeIsFinal != true {
            // Not `chmod`, which follows a symlink: what has the name may have been swapped
            // for one since it was restored. (glibc needs /proc for this; without it, `chmod`.)
            var ok = fd.map { fchmod($0, mode_t(node.mode)) } ?? fchmodat(AT_FDCWD, path, mode_t(node.mode), AT_SYMLINK_NOFOLLOW)
            if ok != 0 && fd == nil && (errno == EOPNOTSUPP || errno == ENOSYS) && !Self.isSymlink(path) {
                ok = chmod(path, mode_t(node.mode))
            }
            if ok != 0 { problem(.mode) }
        }
        guard setsTimes else { return Self.message(failures, snapshotPath: snapshotPath) }
        let mtime = timespec(tv_sec: Int(node.mtime.seconds), tv_nsec: Int(node.mtime.nanoseconds))
        let times = [mtime, mtime]
        let ok = fd.map { futimens($0, times) } ?? utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW)
        if ok != 0 { problem(.times) }
        return Self.message(failures, snapshotPath: snapshotPath)
    }

    /// Whether `path` names a symlink (not followed).
    private static func isSymlink(_ path: UnsafePointer<CChar>) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK
    }

    /// What could not be set on an entry.
    enum Part {
        case owner, mode, times
        case attribute(String)
        /// An attribute the snapshot lacks, which could not be removed.
        case removal(String)
    }

    /// One line for an entry's failures (one entry whose 50 attributes failed is one error,
    /// not 51): what failed, grouped by the system's reason, attributes named up to three.
    static func message(_ failures: [(part: Part, code: Int32)], snapshotPath: [UInt8]) -> [String] {
        guard !failures.isEmpty else { return [] }
        var codes: [Int32] = []
        for f in failures where !codes.contains(f.code) { codes.append(f.code) }
        let clauses = codes.map { code -> String in
            let parts = failures.filter { $0.code == code }.map(\.part)
            var set: [String] = [], attributes: [String] = [], removals: [String] = []
            for part in parts {
                switch part {
                case .owner: set.append("owner")
                case .mode: set.append("mode")
                case .times: set.append("times")
                case .attribute(let name): attributes.append(name)
                case .removal(let name): removals.append(name)
                }
            }
            func named(_ names: [String], _ one: String, _ many: String) -> String {
                let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? ", …" : "")
                return names.count == 1 ? "\(one) \(shown)" : "\(names.count) \(many) (\(shown))"
            }
            if !attributes.isEmpty { set.append(named(attributes, "extended attribute", "extended attributes")) }
            var phrases: [String] = []
            if !set.isEmpty { phrases.append("cannot set " + set.joined(separator: ", ")) }
            if !removals.isEmpty {
                phrases.append("cannot remove " + named(removals, "extended attribute", "extended attributes") + " the snapshot does not have")
            }
            var reason = String(cString: strerror(code))
            if code == EPERM && geteuid() == 0 {
                reason += " (as root this usually means an immutable or append-only file (see lsattr), "
                    + "or a target file system without owners and modes, such as FAT or exFAT)"
            }
            return phrases.joined(separator: "; ") + ": " + reason
        }
        return ["\(PathBytes.display(snapshotPath)): " + clauses.joined(separator: "; ")]
    }
}

extension MetadataWriter {
    /// The names of the entry's extended attributes; none when they cannot be listed. One
    /// system call for an entry without any (the usual case), two otherwise.
    static func attributeNames(path: UnsafePointer<CChar>, fd: Int32?) -> [[UInt8]] {
        let size = fd.map { flistxattr($0, nil, 0) } ?? llistxattr(path, nil, 0)
        guard size > 0 else { return [] }
        // XATTR_LIST_MAX: a list is at most 64 KiB on Linux; room for one that grew meanwhile.
        return withUnsafeTemporaryAllocation(byteCount: max(size, 65536), alignment: 1) { buffer in
            let list = buffer.baseAddress?.assumingMemoryBound(to: CChar.self)
            let n = fd.map { flistxattr($0, list, buffer.count) } ?? llistxattr(path, list, buffer.count)
            guard n > 0 else { return [] }
            return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[..<n]).split(separator: 0).map(Array.init)
        }
    }

    /// Whether a restore removes the attribute `name` when the snapshot lacks it.
    static func isRestoreOwned(_ name: [UInt8]) -> Bool {
        name.starts(with: Array("user.".utf8)) || name.starts(with: Array("trusted.".utf8))
            || name == PosixACL.accessAttribute || name == PosixACL.defaultAttribute
    }
}
