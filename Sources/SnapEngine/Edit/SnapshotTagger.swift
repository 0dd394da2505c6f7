import SnapCore
import SnapRepository
import SnapStorage

/// How `snap tag` changes a snapshot's tags.
public struct TagChange: Sendable {
    /// Replaces all tags when not `nil` (applied first).
    public var set: [String]?
    public var add: [String] = []
    public var remove: [String] = []

    public init(set: [String]? = nil, add: [String] = [], remove: [String] = []) {
        self.set = set; self.add = add; self.remove = remove
    }

    /// The tags after the change, in first-seen order without duplicates. A tag is compared
    /// trimmed (`TagList.stored`), so `--remove b` removes a " b" an older snap stored, and
    /// `--add b` adds nothing to it; tags kept are kept as stored, so a snapshot the change
    /// does not touch comes out the same (and is not rewritten).
    public func apply(to tags: [String]) -> [String] {
        var result: [String] = []
        var seen: Set<String> = []
        for tag in (set ?? tags) + add {
            let name = TagList.trimmed(tag)
            guard !remove.contains(name), seen.insert(name).inserted else { continue }
            result.append(tag)
        }
        return result
    }
}

/// Rewrites snapshots with new tags (`snap tag`). A snapshot file is named by its content,
/// so a change is a new file: the new snapshot is written first (with `original` naming the
/// first snapshot of its line), then the old one deleted, so that at every instant one of
/// them names the tree and prune keeps its data. Runs under a `backup` lock, like a backup.
public struct SnapshotTagger {
    private let repository: Repository
    private let hostname: String

    public init(repository: Repository, hostname: String) {
        self.repository = repository
        self.hostname = hostname
    }

    /// Applies `change` to each snapshot; returns the old and new IDs of those whose tags
    /// changed (others are left alone).
    ///
    /// - Throws: `EngineError.repositoryChanged` after the others are done, when another
    ///   command replaced or removed one of the snapshots meanwhile (`ConcurrentReplacement`):
    ///   that one is left as the other command made it.
    public func retag(_ records: [SnapshotRecord], _ change: TagChange) throws -> [(old: SnapshotID, new: SnapshotID)] {
        let locked = try RepositoryLock.withListing(kind: .backup, repository: repository, hostname: hostname, listing: [.snapshots])
        defer { locked.lock.release() }
        var written: [ConcurrentReplacement.Replacement] = []
        for record in records {
            let tags = change.apply(to: record.snapshot.tags)
            guard tags != record.snapshot.tags else { continue }
            var snapshot = record.snapshot
            snapshot.tags = tags
            let line = record.snapshot.original ?? record.id
            snapshot.original = line
            written.append(.init(original: record.id, line: line, new: try SnapshotStore.save(snapshot, in: repository)))
        }
        return try ConcurrentReplacement.complete(written, locked: locked, in: repository, command: "tag").map { ($0.original, $0.new) }
    }
}
