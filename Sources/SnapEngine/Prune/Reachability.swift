import SnapCore
import SnapRepository

/// The set of blobs that snapshots use: every tree reachable from a snapshot's root and
/// every content blob those trees name. Each tree is loaded once however often it is shared.
/// The blobs are an `IndexedBlobSet`: one bit per record of the index's mapped table, and
/// 32 bytes a blob for others (no table, or blobs the table lacks). Content blobs are
/// inserted later in sorted batches (`insertLater`); each `add` ends consolidated, so that
/// `blobs` is complete and `PackClassification` can mark them at one bit each too.
struct Reachability {
    private(set) var blobs: IndexedBlobSet
    private(set) var snapshots: Set<SnapshotID> = []

    init(index: BlobIndex) { blobs = IndexedBlobSet(numberingBy: index) }

    /// Adds the blobs of every snapshot not added yet.
    ///
    /// Snapshots are listed first and the index loaded after: a snapshot is written only
    /// after the index files naming its blobs, so every listed snapshot's blobs are found.
    /// A snapshot replaced while it was listed is followed to its replacement
    /// (`SnapshotStore.allFollowingReplacements`), still before the index is loaded.
    /// - Throws: `PruneError.snapshotUnreadable` when a snapshot or one of its trees cannot
    ///   be read: without it prune cannot know what is used.
    /// - Parameter ignoring: snapshots left out, as if forgotten (a dry run's assumption).
    mutating func add(snapshotsOf repository: Repository, ignoring: Set<SnapshotID> = [], report: (String) -> Void) throws {
        var skipped: [String] = []
        let records = try SnapshotStore.allFollowingReplacements(in: repository) { id, error in
            skipped.append("snapshot \(id.short): \(error)")
        }
        if let first = skipped.first { throw PruneError.snapshotUnreadable(first) }
        guard let records else { throw PruneError.snapshotsChanging }
        var skippedIndex: [String] = []
        try repository.loadIndex { id, error in
            skippedIndex.append("index \(id.short): \(error)")
            report("index \(id.short) skipped: \(error)")
        }
        blobs.renumber()  // the index may now map another table
        let walker = TreeWalker(repository: repository)
        for record in records where !snapshots.contains(record.id) && !ignoring.contains(record.id) {
            var pending = [record.snapshot.tree]
            while let id = pending.popLast() {
                guard blobs.insert(id) else { continue }
                let tree: Tree
                do { tree = try walker.tree(id) } catch {
                    let detail = "snapshot \(record.id.short), tree \(id.short): \(error)"
                    // A tree in no index because an index file was skipped: the index is what to repair.
                    if let index = skippedIndex.first, case RepositoryError.blobNotFound? = error as? RepositoryError {
                        throw PruneError.indexUnreadable("\(index); so \(detail)")
                    }
                    throw PruneError.snapshotUnreadable(detail)
                }
                for node in tree.nodes {
                    for blob in node.content { blobs.insertLater(blob) }
                    if let subtree = node.subtree { pending.append(subtree) }
                }
            }
            snapshots.insert(record.id)
        }
        blobs.consolidate()
    }
}
