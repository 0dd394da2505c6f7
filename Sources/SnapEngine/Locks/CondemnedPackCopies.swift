import SnapCore
import SnapRepository

/// Keeps a snapshot that a command writes beside deletion marks from naming blobs that only
/// condemned packs hold.
///
/// A mark settled before the command took its lock does not wait for it, so a prune may
/// delete the mark's packs while the command runs, once no snapshot it lists needs them
/// (FORMAT.md, "Locks and deletion marks", (i)). A snapshot can still use such packs: a
/// backup the mark waited for deduplicated against them. A command that keeps blobs of such
/// a snapshot in a new one (`rewrite`, `repair snapshots`) reads them from there and stores
/// them again in new packs, as a backup stores again what only a condemned pack holds. The
/// index keeps one record per blob, so a blob also held by a live pack may be copied too.
final class CondemnedPackCopies {
    private let repository: Repository
    private let condemned: Set<PackID>
    private let saver: BlobSaver
    /// Blobs this command stored: copies, and new blobs the caller `record`s.
    private var stored: Set<BlobID> = []
    /// How many blobs were copied out of condemned packs.
    private(set) var copied = 0

    init(repository: Repository, condemned: Set<PackID>, saver: BlobSaver) {
        self.repository = repository
        self.condemned = condemned
        self.saver = saver
    }

    /// Whether a new snapshot may name `id` as it is: stored by this command, or indexed in a
    /// pack that no mark names.
    func isStored(_ id: BlobID) -> Bool {
        if stored.contains(id) { return true }
        guard let location = repository.index.lookup(id) else { return false }
        return !condemned.contains(location.pack)
    }

    /// Notes a blob the caller has just saved with the saver.
    func record(_ id: BlobID) { stored.insert(id) }

    /// Saves a tree the command made, unless a new snapshot may already name it as it is
    /// (`isStored`), and returns its ID.
    func save(tree: Tree) throws -> BlobID {
        let bytes = tree.encoded()
        let id = repository.keys.blobID(of: bytes)
        if !isStored(id) {
            record(id)
            try saver.save(.tree, id: id, plaintext: bytes)
        }
        return id
    }

    /// Copies `id` into a new pack when the index names it in a condemned pack.
    func keep(_ id: BlobID, _ type: BlobType) throws {
        guard !condemned.isEmpty, !stored.contains(id), let location = repository.index.lookup(id),
              condemned.contains(location.pack) else { return }
        let plaintext = try repository.loadBlob(id)
        stored.insert(id)
        copied += 1
        try saver.save(type, id: id, plaintext: plaintext)
    }

    /// `keep` for every tree and content blob reachable from `root`, but `lost` ones and what
    /// lies below a tree that is damaged or missing (a repair leaves those out). Storage
    /// failures are thrown: a blob passed over for one would stay in a condemned pack.
    func keepAll(below root: BlobID, except lost: (BlobID) -> Bool) throws {
        guard !condemned.isEmpty else { return }
        let walker = TreeWalker(repository: repository)
        var seen: Set<BlobID> = []
        var pending = [root]
        while let id = pending.popLast() {
            guard !lost(id), seen.insert(id).inserted else { continue }
            let tree: Tree
            do { tree = try walker.tree(id) } catch where PackVerifier.isDamage(error) { continue }
            try keep(id, .tree)
            for node in tree.nodes {
                for blob in node.content where !lost(blob) { try keep(blob, .data) }
                if let subtree = node.subtree { pending.append(subtree) }
            }
        }
    }
}
