import SnapCore
import SnapRepository

/// restic's `SNAPSHOT:subfolder` form: a snapshot, and optionally a folder in it whose tree
/// stands for the snapshot's root (`latest:/home/me`, `1a2b3c4d:home/me/src`).
public struct SnapshotReference: Sendable {
    public let record: SnapshotRecord
    /// The tree to work on: the snapshot's root, or the subfolder's.
    public let tree: BlobID
    /// The subfolder as an absolute snapshot path; empty for the root.
    public let subfolder: [UInt8]

    /// Resolves `text`: anything `SnapshotStore.find` takes, optionally followed by `:PATH`
    /// (absolute, or relative to the root). The index must be loaded to follow a subfolder.
    public init(_ text: String, at: Timestamp? = nil, filter: SnapshotFilter = SnapshotFilter(),
                in repository: Repository, skipped: (SnapshotID, Error) -> Void = { _, _ in }) throws {
        let colon = text.firstIndex(of: ":")
        let reference = colon.map { String(text[..<$0]) } ?? text
        let subfolder = colon.map { String(text[text.index(after: $0)...]) } ?? ""
        record = try SnapshotStore.find(reference, at: at, filter: filter, in: repository, skipped: skipped)
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
