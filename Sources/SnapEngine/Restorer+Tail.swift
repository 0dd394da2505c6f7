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

    /// The packs holding the last blob of at least an eighth of the plan's last `tailFiles`
    /// files with content: packs the backup was filling with one file after another, whose
    /// rest the next batches are likely to need. Files scattered over many packs (an
    /// include's picks, content deduplicated against old backups) name none, so no pack is
    /// read beyond what the batch needs for them. (A large file's earlier packs hold it to
    /// their end.)
    func tailPacks() -> Set<PackID> {
        var lastPacks: [PackID] = []
        for entry in plan.reversed() where Self.readsContent(entry) {
            guard let id = entry.node.content.last else { continue }
            if let location = repository.index.lookup(id) { lastPacks.append(location.pack) }
            if lastPacks.count == Self.tailFiles { break }
        }
        return Self.tailPacks(lastPacks)
    }

    /// The packs among `lastPacks` (the pack of each file's last blob, one per file) that
    /// hold at least an eighth of them.
    static func tailPacks(_ lastPacks: [PackID]) -> Set<PackID> {
        var counts: [PackID: Int] = [:]
        for pack in lastPacks { counts[pack, default: 0] += 1 }
        let least = max(1, lastPacks.count / 8)
        return Set(counts.filter { $0.value >= least }.keys)
    }
}
