import SnapCore
import SnapRepository
import SnapStorage

/// restic's `SNAPSHOT:subfolder` form: a snapshot, and optionally a folder in it whose tree
/// stands for the snapshot's root (`latest:/home/me`, `1a2b3c4d:home/me/src`).
public struct SnapshotReference: Sendable {
    public let record: SnapshotRecord
    /// The tree to work on: the snapshot's root, or the subfolder's.
    public let tree: BlobID
    /// The subfolder as an absolute snapshot path; empty for the root.
    public let subfolder: [UInt8]

    /// Resolves each of `texts` (anything `SnapshotStore.find` takes, optionally followed by
    /// `:PATH`, absolute or relative to the root), and has `loadIndex` load the index files
    /// their trees need (before the subfolders are followed), in as few listings as the
    /// storage allows.
    ///
    /// `snapshots/` and `index/` are listed together (`Backend.list(kinds:)`), snapshots
    /// asked first. Where the storage lists them in that order, every index file written
    /// before a snapshot it finds is listed too (a backup writes its index files first).
    /// Where it does not (S3 lists `index/` first, and not at one instant), the index
    /// listing is used only when every snapshot chosen was stored before the listing began
    /// (`KindListing.includesWhatPreceded`); otherwise `index/` is listed again, now that
    /// the snapshots are known, so that a backup that ended during the listing never leaves
    /// its snapshot without its index files.
    public static func resolve(_ texts: [String], at: Timestamp? = nil, filter: SnapshotFilter = SnapshotFilter(),
                               in repository: Repository, skipped: (SnapshotID, Error) -> Void = { _, _ in },
                               loadIndex: ([IndexID]) throws -> Void) throws -> [SnapshotReference] {
        let listing = try repository.backend.list(kinds: [.snapshots, .index])
        let snapshots = listing[.snapshots]
        let chosen = try texts.map { text in
            let (reference, subfolder) = split(text)
            return (record: try SnapshotStore.find(reference, at: at, filter: filter, in: repository, listed: snapshots, skipped: skipped),
                    subfolder: subfolder)
        }
        let stored = Dictionary(snapshots.map { ($0.file.name, $0) }) { a, _ in a }
        let complete = chosen.allSatisfy { stored[$0.record.id.hex].map(listing.includesWhatPreceded) ?? false }
        let indexFiles = complete ? listing[.index] : try repository.backend.list(.index)
        try loadIndex(IndexID.all(in: indexFiles))
        return try chosen.map { try SnapshotReference($0.record, subfolder: $0.subfolder, in: repository) }
    }

    private static func split(_ text: String) -> (reference: String, subfolder: String) {
        let colon = text.firstIndex(of: ":")
        return (colon.map { String(text[..<$0]) } ?? text, colon.map { String(text[text.index(after: $0)...]) } ?? "")
    }

    private init(_ record: SnapshotRecord, subfolder: String, in repository: Repository) throws {
        self.record = record
        let components = PathBytes.components(Array(subfolder.utf8))
        let walker = TreeWalker(repository: repository)
        var current = record.snapshot.tree
        for name in components {
            guard let node = try walker.tree(current).node(named: name), node.type == .directory, let subtree = node.subtree else {
                throw EngineError.snapshotNotFound("\(subfolder) is not a folder in snapshot \(record.id.short)")
            }
            current = subtree
        }
        tree = current
        self.subfolder = components.reduce([UInt8]()) { PathBytes.join($0.isEmpty ? [PathBytes.slash] : $0, $1) }
    }
}
