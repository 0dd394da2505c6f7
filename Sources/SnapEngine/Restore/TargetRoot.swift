#if canImport(Glibc)
import Glibc
#endif
import CPosix
import Synchronization

/// The restore target, held open, through which each entry's folder is reached without
/// following a symlink.
///
/// Entries are created by path, and a path is resolved anew at each call: a user who may
/// write in a folder of the target could swap it for a symlink while a restore run as root
/// fills it, and send files, and the owner and mode set on them, anywhere (restic 0.14
/// follows such a swap too). So every call that creates, removes or changes an entry gets a
/// path `/proc/self/fd/N/NAME` instead, where N is the entry's folder opened from the target
/// with `openat2(RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH)`: the kernel then resolves only the
/// last component, which each call already opens without following. A folder swapped for a
/// symlink fails with `ELOOP`. The target's own path may hold symlinks (they are followed
/// once, when it is opened). Where the kernel lacks `openat2` (before Linux 5.6, gVisor) or
/// `/proc` is not mounted, paths are used as they are, as before.
final class TargetRoot: Sendable {
    let path: [UInt8]
    private let root: OpenFolder
    /// Whether folders can be reached safely here (`openat2` and `/proc/self/fd`).
    let isGuarding: Bool
    /// The folders opened last, most recent last: a restore creates a folder's entries one
    /// after the other, so most entries find theirs here (one `openat2` a folder, not one an
    /// entry). A folder swapped for a symlink after it was opened is still the folder,
    /// renamed: what is created through it stays in the target.
    private let recent = Mutex<[(relative: [UInt8], folder: OpenFolder)]>([])
    private static let recentLimit = 16

    /// A folder's descriptor, closed when the last user lets it go.
    private final class OpenFolder: Sendable {
        let descriptor: Int32
        init(_ descriptor: Int32) { self.descriptor = descriptor }
        deinit { close(descriptor) }
    }

    /// Opens the target folder `path` (which must exist); `nil` when it cannot be opened.
    init?(_ path: [UInt8]) {
        let fd = PathBytes.withCString(path) { Glibc.open($0, oPath | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        self.path = path
        root = OpenFolder(fd)
        let probe = cposix_open_beneath_without_symlinks(fd, ".", oPath | O_DIRECTORY | O_CLOEXEC)
        if probe >= 0 { close(probe) }
        isGuarding = probe >= 0 && access("/proc/self/fd/\(fd)", F_OK) == 0
    }

    /// Calls `body` with the folder of `target` (an entry below the root), reached without
    /// following a symlink, and `target`'s name in it; `failing(errno)` when that folder
    /// cannot be reached so (`ELOOP`: a folder on the way is a symlink now). Where nothing is
    /// guarded, `body` gets `AT_FDCWD` and the whole path.
    func withFolder<T>(_ target: [UInt8], failing: (Int32) -> T, _ body: (Int32, [UInt8]) -> T) -> T {
        guard isGuarding, let (relative, name) = split(target) else { return body(AT_FDCWD, target) }
        guard let folder = folder(relative) else { return failing(errno) }
        return withExtendedLifetime(folder) { body(folder.descriptor, name) }
    }

    /// Calls `body` with a path for `target` that reaches its folder without following a
    /// symlink (`/proc/self/fd/N/NAME`), for calls that have no `…at` form; as `withFolder`.
    func withPath<T>(_ target: [UInt8], failing: (Int32) -> T, _ body: (UnsafePointer<CChar>) -> T) -> T {
        withFolder(target, failing: failing) { folder, name in
            PathBytes.withCString(folder == AT_FDCWD ? name : Array("/proc/self/fd/\(folder)/".utf8) + name, body)
        }
    }

    /// The folder holding `target`, opened (`O_RDONLY`, for `unlinkat` and `openat`) without
    /// following a symlink on the way where the kernel can; -1 with `errno` when it cannot be.
    /// The caller closes it.
    func openFolder(of target: [UInt8]) -> Int32 {
        guard isGuarding, let (relative, _) = split(target) else { return Self.openFolderByPath(of: target) }
        return PathBytes.withCString(relative.isEmpty ? Array(".".utf8) : relative) {
            cposix_open_beneath_without_symlinks(root.descriptor, $0, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
    }

    /// `target`'s folder opened by its path, as every path was before the guard.
    static func openFolderByPath(of target: [UInt8]) -> Int32 {
        let folder = target[..<(target.lastIndex(of: PathBytes.slash) ?? target.startIndex)]
        let path = folder.isEmpty ? (target.first == PathBytes.slash ? [PathBytes.slash] : Array(".".utf8)) : Array(folder)
        return PathBytes.withCString(path) { Glibc.open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    }

    /// `target`'s folder relative to the root (empty: the root) and its name; `nil` when
    /// `target` is not below the root. Targets are joined paths: no `//`, `.` or `..`.
    private func split(_ target: [UInt8]) -> (folder: [UInt8], name: [UInt8])? {
        let start = path == [PathBytes.slash] ? 1 : path.count + 1
        guard target.count > start, target.starts(with: path), start == 1 || target[path.count] == PathBytes.slash,
              let last = target.lastIndex(of: PathBytes.slash), last + 1 < target.count else { return nil }
        return (last < start ? [] : Array(target[start..<last]), Array(target[(last + 1)...]))
    }

    /// The folder `relative` to the root (empty: the root), as `O_PATH`; `nil` with `errno`.
    private func folder(_ relative: [UInt8]) -> OpenFolder? {
        if relative.isEmpty { return root }
        if let found = recent.withLock({ list in list.last(where: { $0.relative == relative })?.folder }) { return found }
        let fd = PathBytes.withCString(relative) { cposix_open_beneath_without_symlinks(root.descriptor, $0, oPath | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        let opened = OpenFolder(fd)
        recent.withLock { list in
            list.append((relative, opened))
            if list.count > Self.recentLimit { list.removeFirst() }
        }
        return opened
    }
}

extension Optional where Wrapped == TargetRoot {
    /// `TargetRoot.withFolder`, or, without a root (a dry run), `AT_FDCWD` and the whole path.
    func withFolder<T>(_ target: [UInt8], failing: (Int32) -> T, _ body: (Int32, [UInt8]) -> T) -> T {
        guard let root = self else { return body(AT_FDCWD, target) }
        return root.withFolder(target, failing: failing, body)
    }

    /// `TargetRoot.openFolder`, or, without a root, the folder opened by its path.
    func openFolder(of target: [UInt8]) -> Int32 {
        guard let root = self else { return TargetRoot.openFolderByPath(of: target) }
        return root.openFolder(of: target)
    }

    /// `TargetRoot.withPath`, or, without a root, the path itself.
    func withPath<T>(_ target: [UInt8], failing: (Int32) -> T, _ body: (UnsafePointer<CChar>) -> T) -> T {
        guard let root = self else { return PathBytes.withCString(target, body) }
        return root.withPath(target, failing: failing, body)
    }
}

/// `O_PATH`, which Glibc's Swift module leaves out (it needs `_GNU_SOURCE`): 0o10000000 in
/// Linux's generic fcntl flags, used by x86-64 and arm64.
private let oPath: Int32 = 0o10000000
