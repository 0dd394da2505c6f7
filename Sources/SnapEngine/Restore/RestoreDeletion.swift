#if canImport(Glibc)
import Glibc
#endif
import SnapCore

/// `RestoreOptions.delete`: removing what the target holds that the snapshot does not.
///
/// Only inside folders that are restored, only below one of `RestoreOptions.deleteWithin`,
/// and only entries that the selection would restore were they in the snapshot (an entry
/// matching an exclude, or outside the includes, stays), as restic does. Names the
/// snapshot has are kept whether or not they were selected. Deletions are planned while
/// walking and carried out after everything is restored; removal never follows a symlink.
extension Restorer {
    /// An entry of the target to remove.
    struct Deletion {
        let target: [UInt8]
        let snapshotPath: [UInt8]
        let isFolder: Bool
    }

    /// Whether entries directly inside the snapshot folder `folder` (`[]` for the root)
    /// may be deleted: it is at or below one of `deleteWithin`.
    func mayDeleteInside(_ folder: [UInt8]) -> Bool {
        let path = folder.isEmpty ? [PathBytes.slash] : folder
        return deleteScopes.contains { scope in
            scope == [PathBytes.slash] || path == scope || path.starts(with: scope + [PathBytes.slash])
        }
    }

    /// Plans the removal of the entries of the existing target folder `target` that the
    /// snapshot folder `tree` (at `snapshotPath`) does not name and the selection covers.
    func planDeletions(in tree: Tree, target: [UInt8], snapshotPath: [UInt8], selected: Bool) {
        guard mayDeleteInside(snapshotPath) else { return }
        let names: [[UInt8]]
        let directory: FileSystem.Directory
        do {
            directory = try FileSystem.Directory(target)
            names = try directory.names()
        } catch {
            record("\(PathBytes.display(snapshotPath.isEmpty ? [PathBytes.slash] : snapshotPath)): cannot list for --delete: \(error)")
            return
        }
        let kept = Set(tree.nodes.map(\.name))
        let extra = names.filter { !kept.contains($0) }
        guard !extra.isEmpty else { return }
        let aliases = Self.spellingsFoundElsewhere(of: kept.subtracting(names), in: directory)
        for name in extra {
            let path = PathBytes.join(snapshotPath.isEmpty ? [PathBytes.slash] : snapshotPath, name)
            if let excludes, excludes.matches(path) { continue }
            guard selected || includes?.matches(path) != false else { continue }
            // On a target that ignores case (exFAT, FAT, NTFS, APFS), the entry listed as
            // `report.docx` is the one the snapshot's `Report.docx` was restored to.
            if aliases.contains(Self.folded(name)) { continue }
            let isFolder = (try? directory.lstat(name)).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
            deletions.append(Deletion(target: PathBytes.join(target, name), snapshotPath: path, isFolder: isFolder))
        }
    }

    /// Of the snapshot's `names` that the folder does not list, the ones it finds all the same
    /// (a file system that ignores case finds `Report.docx` as the `report.docx` it lists),
    /// folded (`folded(_:)`). Inode numbers cannot tell: exfat-fuse gives each spelling its own.
    static func spellingsFoundElsewhere(of names: Set<[UInt8]>, in directory: FileSystem.Directory) -> Set<[UInt8]> {
        Set(names.filter { (try? directory.lstat($0)) != nil }.map(folded))
    }

    /// `name` with its letters in lower case (Unicode's rules for a UTF-8 name, ASCII's
    /// otherwise), to tell the spellings a case-insensitive file system takes as one.
    static func folded(_ name: [UInt8]) -> [UInt8] {
        if let text = String(validating: name, as: UTF8.self) { return Array(text.lowercased().utf8) }
        return name.map { (65...90).contains($0) ? $0 + 32 : $0 }
    }

    /// Removes (or, in a dry run, only counts) the planned deletions.
    func carryOutDeletions() {
        for d in deletions {
            if stopSignal.isRaised { break }
            if !options.dryRun, let code = FileSystem.removeAll(d.target, root: targetRoot) {
                if RestoreStop.stops(code) { stopSignal.raise(code: code, path: d.target); break }
                record("\(PathBytes.display(d.snapshotPath)): cannot delete: \(String(cString: strerror(code)))")
                continue
            }
            result.deleted += 1
            options.progress?.record(.deleted, size: 0, isFolder: d.isFolder)
            options.report?(RestoreEvent(action: .deleted, pathBytes: d.snapshotPath, isFolder: d.isFolder))
        }
        deletions.removeAll()
    }
}

extension FileSystem {
    /// Removes `path` and, when it is a folder, everything in it; never follows a symlink
    /// (a symlink is removed itself): its folder is reached through `root` (no symlink on the
    /// way), and what it holds through descriptors opened with `O_NOFOLLOW`, so a folder
    /// swapped for a symlink meanwhile is not followed either. `nil` on success or when
    /// nothing is there, else the `errno`.
    static func removeAll(_ path: [UInt8], root: TargetRoot?) -> Int32? {
        guard let name = PathBytes.components(path).last else { return EINVAL }
        let parent = root.openFolder(of: path)
        guard parent >= 0 else { return errno }
        defer { close(parent) }
        return removeAll(name, in: parent)
    }

    /// Removes the entry `name` of the folder open as `parent`, with all it holds.
    static func removeAll(_ name: [UInt8], in parent: Int32) -> Int32? {
        if PathBytes.withCString(name, { unlinkat(parent, $0, 0) }) == 0 || errno == ENOENT { return nil }
        // Linux answers EISDIR for a folder (POSIX allows EPERM).
        guard errno == EISDIR || errno == EPERM else { return errno }
        let fd = PathBytes.withCString(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { return errno }
        guard let dir = fdopendir(fd) else {
            let code = errno
            close(fd)
            return code
        }
        var names: [[UInt8]] = []
        var failure: Int32?
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { failure = errno }
                break
            }
            let child = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if child != [46] && child != [46, 46] { names.append(child) }
        }
        for child in names {
            if let code = removeAll(child, in: dirfd(dir)), failure == nil { failure = code }
        }
        closedir(dir)
        if let failure { return failure }
        return PathBytes.withCString(name) { unlinkat(parent, $0, AT_REMOVEDIR) } == 0 ? nil : errno
    }
}
