import SnapCore
import SnapRepository

extension Restorer {
    /// Files with content, counted from the end of a batch, whose packs are read on to their
    /// end and kept for the next batch (`RestoreSpool`): enough to include every data pack a
    /// backup fills at once.
    static let tailFiles = 64

    /// Whether restoring `entry` reads blobs (before it is created: `writeContent` also
    /// skips entries whose creation failed).
    static func readsContent(_ entry: PlannedEntry) -> Bool {
        entry.linkTo == nil && entry.action != .keep && (entry.node.type == .file || entry.node.type == .hardlink)
    }

    /// The packs holding the last blob of each of the plan's last `tailFiles` files with
    /// content: those still being filled when the backup stored them, whose rest the next
    /// batch is likely to need. (A large file's earlier packs hold it to their end.)
    func tailPacks() -> Set<PackID> {
        var packs = Set<PackID>()
        var files = 0
        for entry in plan.reversed() where Self.readsContent(entry) {
            guard let id = entry.node.content.last else { continue }
            if let location = repository.index.lookup(id) { packs.insert(location.pack) }
            files += 1
            if files == Self.tailFiles { break }
        }
        return packs
    }
}
