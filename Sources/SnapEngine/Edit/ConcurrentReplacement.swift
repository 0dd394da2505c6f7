import SnapCore
import SnapRepository
import SnapStorage

/// Replacing a snapshot (`tag`, `rewrite --forget`) takes two steps: write the new file,
/// then delete the old one. Two commands replacing the same snapshot at once (`tag` on two
/// hosts) would both succeed and leave two copies of it, each with only its own change,
/// which `forget --keep-last` then counts twice; a `forget` of the snapshot in between would
/// be undone by the new file.
///
/// So, after writing its replacements and before deleting anything, a command lists
/// `snapshots/` once and withdraws each replacement whose original is gone, or whose line
/// (the first snapshot it was made from) got a new snapshot since the listing taken with
/// its lock: it deletes its own new file and leaves the other command's. The command that
/// writes second lists after both writes, so it sees the first's file unless that was
/// already there when it took its lock, and then it finds the original gone unless the
/// first command is between its own listing and its delete at that very moment: of two
/// replacements of one snapshot, at most one survives but in that window of a few
/// milliseconds. When each sees the other, both withdraw and the snapshot stays as it was.
/// A `forget` that deletes the original between this listing and the delete is undone.
enum ConcurrentReplacement {
    struct Replacement {
        let original: SnapshotID
        /// The first snapshot of the original's line: its `original`, or its own ID.
        let line: SnapshotID
        let new: SnapshotID
    }

    /// Deletes the originals of `written` replacements that no other command contested, and
    /// withdraws the others; returns the replacements done.
    ///
    /// - Throws: `EngineError.repositoryChanged` naming the withdrawn ones, after the rest is done.
    /// - Parameter gone: originals found gone before anything was written (selected, then
    ///   deleted or replaced by another command before the lock): named in the same error.
    static func complete(_ written: [Replacement], locked: LockedListing, in repository: Repository, command: String,
                         gone: Set<SnapshotID> = []) throws -> [Replacement] {
        var withdrawn = try withdrawContested(written, locked: locked, in: repository)
        var done: [Replacement] = []
        for r in written where !withdrawn.contains(r.original) {
            do {
                try repository.backend.delete(FileName(.snapshots, r.original.hex))
                done.append(r)
            } catch StorageError.notFound {
                // Removed since the listing, by a command that replaced or forgot it.
                try repository.backend.delete(FileName(.snapshots, r.new.hex))
                withdrawn.insert(r.original)
            }
        }
        withdrawn.formUnion(gone)
        if !withdrawn.isEmpty { throw error(withdrawn, command: command) }
        return done
    }

    /// Withdraws the contested `replacements` (deleting their new files).
    ///
    /// - Parameter locked: the lock, and `snapshots/` as listed with it, before the new files were written.
    /// - Returns: the originals whose replacement was withdrawn.
    static func withdrawContested(_ replacements: [Replacement], locked: LockedListing, in repository: Repository) throws -> Set<SnapshotID> {
        guard !replacements.isEmpty else { return [] }
        let listed = try repository.backend.list(.snapshots)
        let present = Set(listed.map(\.file))
        let known = Set(locked.listing[.snapshots].map(\.file)).union(replacements.map { FileName(.snapshots, $0.new.hex) })
        var otherLines = Set<SnapshotID>()
        for info in listed where !known.contains(info.file) {
            // Another command's new snapshot: a backup's has no `original`; one that cannot be read tells nothing.
            guard let id = SnapshotID(hex: info.file.name), let line = try? SnapshotStore.load(id, from: repository).original else { continue }
            otherLines.insert(line)
        }
        var withdrawn = Set<SnapshotID>()
        for r in replacements where !present.contains(FileName(.snapshots, r.original.hex)) || otherLines.contains(r.line) {
            try repository.backend.delete(FileName(.snapshots, r.new.hex))
            withdrawn.insert(r.original)
        }
        return withdrawn
    }

    /// The error for withdrawn replacements, naming them.
    static func error(_ withdrawn: Set<SnapshotID>, command: String) -> EngineError {
        let names = withdrawn.map(\.short).sorted().joined(separator: ", ")
        let (noun, verb, them) = withdrawn.count == 1 ? ("snapshot", "was", "it") : ("snapshots", "were", "them")
        return .repositoryChanged("\(noun) \(names) \(verb) changed or removed by another command while this \(command) ran, "
            + "so this \(command) left \(them) as that command made \(them); run it again to apply this one's change")
    }
}
