import SnapCore
import SnapRepository

/// The last check before a new snapshot is saved (by a backup, an import or a copy).
enum SnapshotDependencies {
    /// If the lock of the backup (or import) that wrote `root` may have looked dead to a prune (the host slept, or storage was
    /// unreachable for a long time), checks that every pack the snapshot depends on is still
    /// there and not condemned; otherwise the snapshot would name deleted data.
    ///
    /// Rare, so the blobs are found by walking the new tree then rather than remembered
    /// throughout the backup (which would cost memory per file).
    static func verify(_ root: BlobID, in repository: Repository, lock: RepositoryLock, timing: LockTiming) throws {
        let quiet = lock.longestSilence
        guard quiet > timing.staleAfter - timing.refreshInterval else { return }
        let present = Set(try repository.backend.list(.data).compactMap { PackID(hex: $0.file.name) })
        let condemned = try Coordination.scan(repository).condemnedPacks(action: "snapshot not saved")
        var needed: Set<PackID> = []
        func need(_ id: BlobID) { if let pack = repository.index.lookup(id)?.pack { needed.insert(pack) } }
        do {
            need(root)
            try TreeWalker(repository: repository).walk(root) { _, node in
                node.content.forEach(need)
                if let subtree = node.subtree { need(subtree) }
            }
        } catch {
            throw EngineError.repositoryChanged("this backup could not refresh its lock for \(Int(quiet)) s and its new snapshot's trees can no longer be read (\(error)); run the backup again")
        }
        if let lost = needed.first(where: { !present.contains($0) || condemned.contains($0) }) {
            throw EngineError.repositoryChanged("this backup could not refresh its lock for \(Int(quiet)) s and a prune has since condemned pack \(lost.short) it depends on; run the backup again")
        }
    }
}
