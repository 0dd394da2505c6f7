import SnapCore
import SnapRepository
import SnapStorage

/// Every index file of a repository, sorted into the ones readers use and the rest.
///
/// Unlike `Repository.loadIndex`, which skips an unreadable file with a warning, this keeps
/// the failures so that `check` can count them as errors and `repair` can supersede them.
struct IndexFileSet {
    /// Readable files that no readable file supersedes: the repository's index.
    var active: [(id: IndexID, file: IndexFile)] = []
    /// Files that could not be read or authenticated and that no readable file supersedes.
    var unreadable: [(id: IndexID, error: Error)] = []
    /// Files that could not be read, but that a readable file supersedes (so no reader needs them).
    var supersededUnreadable: [(id: IndexID, error: Error)] = []
    /// Readable files that another readable file supersedes.
    var superseded: [IndexID] = []
    /// Every index file listed, readable or not.
    var all: [IndexID] = []

    /// Lists and reads every index file.
    ///
    /// - Throws: storage errors from listing; a file that vanishes after it was listed is ignored.
    static func load(from repository: Repository) throws -> IndexFileSet {
        var set = IndexFileSet()
        var loaded: [IndexID: IndexFile] = [:]
        var failed: [(IndexID, Error)] = []
        for info in try repository.backend.list(.index) {
            guard let id = IndexID(hex: info.file.name) else { continue }
            do {
                loaded[id] = try repository.loadIndexFile(id)
                set.all.append(id)
            } catch StorageError.notFound {
                continue  // deleted since it was listed (by prune or a repair)
            } catch {
                failed.append((id, error))
                set.all.append(id)
            }
        }
        let supersededIDs = Set(loaded.values.flatMap(\.supersedes))
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
