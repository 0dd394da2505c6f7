#if canImport(Glibc)
import Glibc
#endif
import CPosix

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
    private let descriptor: Int32
    /// Whether folders can be reached safely here (`openat2` and `/proc/self/fd`).
    let isGuarding: Bool

    /// Opens the target folder `path` (which must exist); `nil` when it cannot be opened.
    init?(_ path: [UInt8]) {
        let fd = PathBytes.withCString(path) { Glibc.open($0, oPath | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        self.path = path
        descriptor = fd
        let probe = cposix_open_beneath_without_symlinks(fd, ".", oPath | O_DIRECTORY | O_CLOEXEC)
        if probe >= 0 { close(probe) }
        isGuarding = probe >= 0 && access("/proc/self/fd/\(fd)", F_OK) == 0
    }

    deinit { close(descriptor) }

    /// Calls `body` with a path for `target` (an entry below the root) that reaches its
    /// folder without following a symlink; `failing(errno)` when that folder cannot be
    /// reached so (`ELOOP`: a folder on the way is a symlink now).
    func withPath<T>(_ target: [UInt8], failing: (Int32) -> T, _ body: (UnsafePointer<CChar>) -> T) -> T {
        guard isGuarding, let (relativeFolder, name) = split(target) else { return PathBytes.withCString(target, body) }
        let folder = openRelative(relativeFolder)
        guard folder >= 0 else { return failing(errno) }
        defer { if folder != descriptor { close(folder) } }
        return PathBytes.withCString(Array("/proc/self/fd/\(folder)/".utf8) + name, body)
    }

    /// The folder holding `target`, opened (`O_RDONLY`, for `unlinkat` and `openat`) without
    /// following a symlink on the way where the kernel can; -1 with `errno` when it cannot be.
    /// The caller closes it.
    func openFolder(of target: [UInt8]) -> Int32 {
        guard isGuarding, let (relativeFolder, _) = split(target) else {
            var parts = PathBytes.components(target)
            parts.removeLast()
            let folder = parts.reduce(target.first == PathBytes.slash ? [PathBytes.slash] : []) { PathBytes.join($0, $1) }
            return PathBytes.withCString(folder.isEmpty ? Array(".".utf8) : folder) { Glibc.open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        }
        let path = relativeFolder.isEmpty ? Array(".".utf8) : relativeFolder
        return PathBytes.withCString(path) { cposix_open_beneath_without_symlinks(descriptor, $0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    }

    /// `target`'s folder relative to the root (empty: the root) and its last component;
    /// `nil` when `target` is not below the root.
    private func split(_ target: [UInt8]) -> (folder: [UInt8], name: [UInt8])? {
        guard target.count > path.count, target.starts(with: path),
              path == [PathBytes.slash] || target[path.count] == PathBytes.slash else { return nil }
        var components = PathBytes.components(Array(target[path.count...]))
        guard let name = components.popLast() else { return nil }
        let folder = components.isEmpty ? [] : components.dropFirst().reduce(components[0]) { PathBytes.join($0, $1) }
        return (folder, name)
    }

    /// The folder `relative` to the root (empty: the root's own descriptor), as `oPath`.
    private func openRelative(_ relative: [UInt8]) -> Int32 {
        guard !relative.isEmpty else { return descriptor }
        return PathBytes.withCString(relative) { cposix_open_beneath_without_symlinks(descriptor, $0, oPath | O_DIRECTORY | O_CLOEXEC) }
    }
}

/// `O_PATH`, which Glibc's Swift module leaves out (it needs `_GNU_SOURCE`): 0o10000000 in
/// Linux's generic fcntl flags, used by x86-64 and arm64.
private let oPath: Int32 = 0o10000000
