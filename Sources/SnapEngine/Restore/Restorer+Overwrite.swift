#if canImport(Glibc)
import Glibc
#endif
import SnapCore

/// What a restore does with an entry that already exists in the target (restic 0.17's
/// `--overwrite`).
public enum OverwriteMode: String, Sendable, CaseIterable {
    /// Replace every existing entry.
    case always
    /// Leave an entry alone when it already has the snapshot's content, and set its
    /// metadata; replace it otherwise. A regular file of the snapshot's size and
    /// modification time is taken as unchanged without being read; one of the right size
    /// but another time is read and compared chunk by chunk with the snapshot. So a file
    /// changed without its size or time changing is left as it is, as restic does.
    case ifChanged = "if-changed"
    /// Replace an existing entry only when the snapshot's modification time is newer.
    case ifNewer = "if-newer"
    /// Never replace an existing entry.
    case never
}

/// One entry a restore handles, as told to `RestoreOptions.report`.
public struct RestoreEvent: Sendable {
    public enum Action: String, Sendable {
        /// Created where nothing was.
        case restored
        /// Replaced an existing entry (a replaced file is a new file: other hard links to
        /// the old one keep the old content).
        case updated
        /// Already had the snapshot's content; only its metadata was set.
        case unchanged
        /// Existing, and left alone because of the overwrite mode.
        case skipped
        /// Removed by `RestoreOptions.delete` (with all it holds).
        case deleted
    }

    public let action: Action
    /// The entry's path in the restored tree (`/home/a/x`), for a deleted entry too, as bytes.
    public let pathBytes: [UInt8]
    /// `pathBytes` for a line of text (`PathBytes.display`).
    public var path: String { PathBytes.display(pathBytes) }
    public let isFolder: Bool
    /// A file's size (0 for other entries and deleted ones).
    public var size: UInt64 = 0
}

extension Restorer {
    /// What the plan does with one entry.
    enum EntryAction {
        /// Nothing is in the way.
        case create
        /// Something is in the way and is removed first (never written into, never followed).
        case replace
        /// It is already right: only its metadata is set (an existing folder is merged).
        case keep
        /// It exists and the overwrite mode leaves it alone.
        case skip
    }

    /// What to do with `node` whose target `path` already holds the entry `st` (an
    /// existing folder where the snapshot has one is merged, not decided here).
    func decide(_ node: Node, path: [UInt8], existing st: stat) -> EntryAction {
        switch options.overwrite {
        case .always: return .replace
        case .never: return .skip
        case .ifNewer:
            return Self.isNewer(node.mtime, than: st.st_mtim) ? .replace : .skip
        case .ifChanged:
            return isAlreadyRestored(node, path: path, existing: st) ? .keep : .replace
        }
    }

    /// Whether the snapshot's time `stored` is later than the target's `existing`, at the
    /// target's precision. A time without a fraction of a second comes from a file system
    /// that keeps whole seconds (exFAT through FUSE) or 2-second steps (FAT), which cut the
    /// restored time down: only a snapshot time 2 s or more later counts as newer there, or
    /// every rerun would rewrite every file whose time has a fraction.
    static func isNewer(_ stored: Timestamp, than existing: timespec) -> Bool {
        let target = Timestamp(seconds: Int64(existing.tv_sec), nanoseconds: UInt32(existing.tv_nsec))
        guard existing.tv_nsec == 0 else { return stored > target }
        return stored.seconds >= target.seconds + 2
    }

    /// Whether the entry at `path` already has `node`'s type and content (`if-changed`).
    /// Further names of hard links are not decided here: they are left alone when they
    /// already are the link, and relinked otherwise (`plan`).
    func isAlreadyRestored(_ node: Node, path: [UInt8], existing st: stat) -> Bool {
        let kind = st.st_mode & S_IFMT
        switch node.type {
        case .file, .hardlink:
            // A file with more names than the snapshot's (a hard link planted in the target, a
            // `cp -al` copy) is replaced, never kept: keeping it would set the snapshot's owner,
            // mode and attributes on a file that other names, maybe outside the target, share.
            // An earlier restore of the snapshot's own hard-linked file has its count of names.
            guard kind == S_IFREG, UInt64(st.st_size) == node.size, st.st_nlink <= 1 || UInt64(st.st_nlink) == node.links else { return false }
            let mtime = Timestamp(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: UInt32(st.st_mtim.tv_nsec))
            if mtime == node.mtime { return true }
            return compareContent(path: path, node: node) == nil
        case .symlink:
            return kind == S_IFLNK && (try? FileSystem.readlink(path)) == node.linkTarget
        case .fifo: return kind == S_IFIFO
        case .socket: return kind == S_IFSOCK
        case .characterDevice: return kind == S_IFCHR && UInt64(st.st_rdev) == node.rdev
        case .blockDevice: return kind == S_IFBLK && UInt64(st.st_rdev) == node.rdev
        case .directory: return kind == S_IFDIR
        }
    }

    /// Counts an entry left alone because of the overwrite mode.
    func countSkipped(_ path: [UInt8], node: Node) {
        result.skipped += 1
        tell(.skipped, path, node)
    }

    func tell(_ action: RestoreEvent.Action, _ snapshotPath: [UInt8], _ node: Node) {
        let size = node.type == .file || node.type == .hardlink ? node.size : 0
        options.progress?.record(action, size: size, isFolder: node.type == .directory)
        options.report?(RestoreEvent(action: action, pathBytes: snapshotPath, isFolder: node.type == .directory, size: size))
    }

    /// Makes room for a non-folder entry where the target has a folder: an empty folder is
    /// removed; a non-empty one only with `delete` (as restic does). Returns whether the
    /// way is clear; a failure is recorded.
    func clearFolder(in e: PlannedEntry) -> Bool {
        let code: Int32?
        if options.delete {
            code = FileSystem.removeAll(e.target, root: targetRoot)
        } else {
            code = atTarget(e.target) { rmdir($0) == 0 ? nil : errno }
        }
        guard let code else { return true }
        if RestoreStop.stops(code) {
            stopSignal.raise(code: code, path: e.target)
        } else if code == ENOTEMPTY || code == EEXIST {
            record("\(PathBytes.display(e.snapshotPath)): a folder that is not empty is in the way (--delete replaces it)")
        } else {
            record("\(PathBytes.display(e.snapshotPath)): cannot remove the folder in the way: \(String(cString: strerror(code)))")
        }
        return false
    }
}
