import SnapCore
import SnapRepository
import SnapStorage

/// The live index files of a repository, as prune sees them.
struct IndexState {
    /// Live (not superseded) index files.
    var fileIDs: [IndexID] = []
    /// Every index file listed, superseded or not. A rewrite supersedes all of them, so a
    /// file stays superseded even after the file that superseded it is deleted.
    var allFileIDs: [IndexID] = []
    /// Every pack a live index names, once.
    var packs: [IndexedPack] = []
    /// Which live index file names each pack.
    var packNames: [PackID: IndexID] = [:]

    static func load(from repository: Repository) throws -> IndexState {
        var files: [IndexID: IndexFile] = [:]
        for info in try repository.backend.list(.index) {
            guard let id = IndexID(hex: info.file.name) else { continue }
            do { files[id] = try repository.loadIndexFile(id) } catch StorageError.notFound {
                continue
            } catch {
                throw PruneError.indexUnreadable("index \(id.short): \(error)")
            }
        }
        let superseded = Set(files.values.flatMap(\.supersedes))
        var state = IndexState()
        state.allFileIDs = files.keys.sorted()
        for (id, file) in files.sorted(by: { $0.key < $1.key }) where !superseded.contains(id) {
            state.fileIDs.append(id)
            for pack in file.packs where state.packNames[pack.id] == nil {
                state.packNames[pack.id] = id
                state.packs.append(pack)
            }
        }
        return state
    }

    /// Writes index files naming `keeping`, then one that supersedes `old`.
    ///
    /// The superseding file comes last: killed before it, readers see old and new files
    /// side by side (duplicates are harmless); after it, only the new ones.
    /// - Returns: the number of index files written.
    static func rewrite(keeping: [IndexedPack], superseding old: [IndexID], in repository: Repository) throws -> Int {
        var written = 0
        var start = 0
        let perFile = 4096
        while start < keeping.count {
            let slice = Array(keeping[start..<min(start + perFile, keeping.count)])
            _ = try repository.saveFile(.index, plaintext: IndexFile(packs: slice).encoded())
            written += 1
            start += perFile
        }
        if !old.isEmpty {
            _ = try repository.saveFile(.index, plaintext: IndexFile(supersedes: old, packs: []).encoded())
            written += 1
        }
        return written
    }
}
