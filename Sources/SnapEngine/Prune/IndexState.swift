import SnapCore
import SnapRepository
import SnapStorage

/// The live index files of a repository, as prune sees them, held without their entries.
///
/// Decoded entries cost about 50 bytes a blob (1 GiB at 20 M blobs), so `load` keeps only
/// which files are live and which packs they name, and each pass over the entries
/// (`forEachPack`) reads the live files again, one at a time: memory holds one index file.
struct IndexState {
    /// Live (not superseded) index files, in the order passes read them.
    private(set) var fileIDs: [IndexID] = []
    /// Every index file listed, superseded or not. A rewrite supersedes all of them, so a
    /// file stays superseded even after the file that superseded it is deleted.
    private(set) var allFileIDs: [IndexID] = []
    /// Which live index file names each pack: the first in `fileIDs` order.
    private(set) var packNames: [PackID: IndexID] = [:]

    /// The number of distinct packs live index files name.
    var packCount: Int { packNames.count }

    static func load(from repository: Repository) throws -> IndexState {
        var packsOf: [IndexID: [PackID]] = [:]
        var superseded: Set<IndexID> = []
        for info in try repository.backend.list(.index) {
            guard let id = IndexID(hex: info.file.name) else { continue }
            guard let file = try read(id, from: repository) else { continue }
            superseded.formUnion(file.supersedes)
            packsOf[id] = file.packs.map(\.id)
        }
        var state = IndexState()
        state.allFileIDs = packsOf.keys.sorted()
        for id in state.allFileIDs where !superseded.contains(id) {
            state.fileIDs.append(id)
            for pack in packsOf[id] ?? [] where state.packNames[pack] == nil { state.packNames[pack] = id }
        }
        return state
    }

    /// Calls `body` once with each pack a live index file names, with its entries, in
    /// file order and then the order within each file (the order prune claims blobs in).
    /// A file deleted since `load` fails the pass: only a prune deletes index files, and
    /// prunes do not run side by side.
    func forEachPack(in repository: Repository, _ body: (IndexedPack) throws -> Void) throws {
        for id in fileIDs {
            guard let file = try Self.read(id, from: repository) else {
                throw PruneError.indexUnreadable("index \(id.short) was deleted while prune read it; run prune again")
            }
            var seen: Set<PackID> = []
            for pack in file.packs where packNames[pack.id] == id && seen.insert(pack.id).inserted {
                try body(pack)
            }
        }
    }

    /// Writes index files naming every live pack except `dropping`, then one that supersedes
    /// every listed file, streaming: one input file and one output file in memory.
    ///
    /// The superseding file comes last: killed before it, readers see old and new files
    /// side by side (duplicates are harmless); after it, only the new ones.
    /// - Returns: the number of index files written.
    func rewrite(dropping: Set<PackID>, in repository: Repository) throws -> Int {
        var written = 0
        var batch: [IndexedPack] = []
        var entries = 0
        func flush() throws {
            guard !batch.isEmpty else { return }
            _ = try repository.saveFile(.index, plaintext: IndexFile(packs: batch).encoded())
            written += 1
            batch = []
            entries = 0
        }
        try forEachPack(in: repository) { pack in
            guard !dropping.contains(pack.id) else { return }
            batch.append(pack)
            entries += pack.entries.count
            if batch.count >= Self.packsPerFile || entries >= Self.entriesPerFile { try flush() }
        }
        try flush()
        if !allFileIDs.isEmpty {
            _ = try repository.saveFile(.index, plaintext: IndexFile(supersedes: allFileIDs, packs: []).encoded())
            written += 1
        }
        return written
    }

    /// Bounds of one written index file: whichever is reached first.
    static let packsPerFile = 4096
    static let entriesPerFile = 1 << 18

    /// One index file, or `nil` when it vanished since it was listed.
    private static func read(_ id: IndexID, from repository: Repository) throws -> IndexFile? {
        do { return try repository.loadIndexFile(id) } catch StorageError.notFound {
            return nil
        } catch {
            throw PruneError.indexUnreadable("index \(id.short): \(error)")
        }
    }
}
