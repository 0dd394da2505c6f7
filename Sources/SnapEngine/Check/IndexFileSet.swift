import SnapCore
import SnapRepository
import SnapStorage

/// Every index file of a repository, sorted into the ones readers use and the rest, with
/// what the caller keeps of each readable file (`Kept`: the whole `IndexFile` for repair, a
/// summary per pack for check, so that check holds one decoded file at a time).
///
/// Unlike `Repository.loadIndex`, which skips an unreadable file with a warning, this keeps
/// the failures so that `check` can count them as errors and `repair` can supersede them.
struct IndexFileSet<Kept> {
    /// Readable files that no readable file supersedes: the repository's index.
    var active: [(id: IndexID, file: Kept)] = []
    /// Files that could not be read or authenticated and that no readable file supersedes.
    var unreadable: [(id: IndexID, error: Error)] = []
    /// Files that could not be read, but that a readable file supersedes (so no reader needs them).
    var supersededUnreadable: [(id: IndexID, error: Error)] = []
    /// Readable files that another readable file supersedes.
    var superseded: [IndexID] = []
    /// Every index file listed, readable or not.
    var all: [IndexID] = []

    /// Lists (unless `listed` gives `index/` as already listed) and reads every index file,
    /// one at a time, keeping `keep(file)` of each.
    ///
    /// - Throws: storage errors from listing; a file that vanishes after it was listed is ignored.
    static func load(from repository: Repository, listed: [FileInfo]? = nil,
                     keep: (IndexID, IndexFile) -> Kept) throws -> IndexFileSet<Kept> {
        var set = IndexFileSet<Kept>()
        var loaded: [IndexID: Kept] = [:]
        var supersededIDs: Set<IndexID> = []
        var failed: [(IndexID, Error)] = []
        for info in try listed ?? repository.backend.list(.index) {
            guard let id = IndexID(hex: info.file.name) else { continue }
            do {
                let file = try repository.loadIndexFile(id)
                supersededIDs.formUnion(file.supersedes)
                loaded[id] = keep(id, file)
                set.all.append(id)
            } catch StorageError.notFound {
                continue  // deleted since it was listed (by prune or a repair)
            } catch {
                failed.append((id, error))
                set.all.append(id)
            }
        }
        for (id, file) in loaded.sorted(by: { $0.key < $1.key }) {
            if supersededIDs.contains(id) { set.superseded.append(id) } else { set.active.append((id, file)) }
        }
        for (id, error) in failed.sorted(by: { $0.0 < $1.0 }) {
            if supersededIDs.contains(id) { set.supersededUnreadable.append((id, error)) } else { set.unreadable.append((id, error)) }
        }
        set.all.sort()
        return set
    }
}

extension IndexFileSet where Kept == IndexFile {
    /// Every index file, whole.
    static func load(from repository: Repository) throws -> IndexFileSet<IndexFile> {
        try load(from: repository) { $1 }
    }
}
