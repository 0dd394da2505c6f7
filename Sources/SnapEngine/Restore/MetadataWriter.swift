#if canImport(Glibc)
import Glibc
#endif
import CPosix

/// Sets a restored entry's owner, extended attributes, mode and times, on an open
/// descriptor when there is one (no path look-ups) or by path otherwise.
///
/// Owner and group names are mapped to this host's IDs, each name looked up once.
final class MetadataWriter: Sendable {
    private let restoreOwnership: Bool
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

    init(restoreOwnership: Bool) { self.restoreOwnership = restoreOwnership }

    /// Applies `node`'s metadata to `path` (or `fd`, open on it), leaving out what
    /// `created` says is already so, and the times where `times` is false; returns one
    /// message per failure, naming the entry by `snapshotPath`.
    func apply(_ node: Node, snapshotPath: [UInt8], path: UnsafePointer<CChar>, fd: Int32?, created: NewFile? = nil,
               times setsTimes: Bool = true) -> [String] {
        var problems: [String] = []
        func problem(_ what: String) {
            problems.append("\(PathBytes.display(snapshotPath)): \(what): \(String(cString: strerror(errno)))")
        }
        let isLink = node.type == .symlink
        if restoreOwnership {
            let uid = owners.userID(named: node.user) ?? node.uid
            let gid = owners.groupID(named: node.group) ?? node.gid
            if !(created?.ownerIsOurs == true && uid == euid && gid == egid) {
                let ok = fd.map { fchown($0, uid, gid) } ?? lchown(path, uid, gid)
                if ok != 0 { problem("cannot set owner") }
            }
        }
        for x in node.xattrs {
            let ok = PathBytes.withCString(x.name) { name in
                x.value.withUnsafeBytes { value in
                    fd.map { fsetxattr($0, name, value.baseAddress, value.count, 0) }
                        ?? lsetxattr(path, name, value.baseAddress, value.count, 0)
                }
            }
            if ok != 0 { problem("cannot set extended attribute \(PathBytes.display(x.name))") }
        }
        if !isLink && created?.modeIsFinal != true {
            let ok = fd.map { fchmod($0, mode_t(node.mode)) } ?? chmod(path, mode_t(node.mode))
            if ok != 0 { problem("cannot set mode") }
        }
        guard setsTimes else { return problems }
        let mtime = timespec(tv_sec: Int(node.mtime.seconds), tv_nsec: Int(node.mtime.nanoseconds))
        let times = [mtime, mtime]
        let ok = fd.map { futimens($0, times) } ?? utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW)
        if ok != 0 { problem("cannot set times") }
        return problems
    }
}
