import SnapCore
import SnapRepository

extension Restorer {
    /// Files with content, counted from the end of a batch, whose packs may be read on and
    /// kept for later batches (`RestoreSpool`): enough to include every data pack a backup
    /// fills at once.
    static let tailFiles = 64

    /// Whether restoring `entry` reads blobs (before it is created: `writeContent` also
    /// skips entries whose creation failed).
    static func readsContent(_ entry: PlannedEntry) -> Bool {
        entry.linkTo == nil && entry.action != .keep && (entry.node.type == .file || entry.node.type == .hardlink)
    }

    /// Of the packs holding the last blob of the plan's last `tailFiles` files with content,
    /// the `tailPacksKept` that hold most of them (the more recent first among equals):
    /// packs the backup was filling with one file after another, whose rest the next
    /// batches are likely to need. A pack the backup opened just before the batch's end
    /// holds few of them but is among these. Files scattered over many packs (an include's
    /// picks, content deduplicated against old backups) have their last few packs read on,
    /// at most `tailPacksKept` × `RestoreSpool.readOn` bytes beyond what the batch needs.
    /// (A large file's earlier packs hold it to their end.)
    func tailPacks() -> Set<PackID> {
        var lastPacks: [PackID] = []
        for entry in plan.reversed() where Self.readsContent(entry) {
            guard let id = entry.node.content.last else { continue }
            if let location = repository.index.lookup(id) { lastPacks.append(location.pack) }
            if lastPacks.count == Self.tailFiles { break }
        }
        return Self.tailPacks(lastPacks)
    }

    /// How many packs a batch reads on at most: the four 16 MiB packs `RestoreSpool` keeps.
    static let tailPacksKept = 4

    /// The `tailPacksKept` packs among `lastPacks` (the pack of each file's last blob, one
    /// per file, the batch's last file first) that hold most of them, the earlier in
    /// `lastPacks` first among equals.
    static func tailPacks(_ lastPacks: [PackID]) -> Set<PackID> {
        var seen: [PackID: (count: Int, first: Int)] = [:]
        for (i, pack) in lastPacks.enumerated() { seen[pack, default: (0, i)].count += 1 }
        let ranked = seen.sorted { ($1.value.count, $0.value.first) < ($0.value.count, $1.value.first) }
        return Set(ranked.prefix(tailPacksKept).map(\.key))
    }
}
