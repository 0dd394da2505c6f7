import SnapCore
import SnapRepository

/// How an import writes into the repository.
public struct ImportOptions: Sendable {
    /// The host named in the import's lock (this host, not the original's).
    public var lockHostname: String
    public var lockTiming = LockTiming()
    /// Overrides the repository's compression level.
    public var compressionLevel: Int?
    /// Compression/encryption worker threads.
    public var workers = max(1, System.activeProcessorCount)
    /// As `BackupOptions.stopRequested`: asked before each snapshot is written.
    public var stopRequested: @Sendable () -> Bool = { false }

    public init(lockHostname: String) { self.lockHostname = lockHostname }
}

/// A repository held open for importing snapshots: under a backup lock, with the index
/// loaded once for any number of snapshots (`SnapshotImporter`).
///
/// As a backup does, it takes the lock before reading the index (a prune that condemns
/// packs later waits for it), leaves condemned packs out of the index so that nothing new
/// depends on them, and indexes packs that a killed backup left without an index.
public final class ImportSession {
    public let repository: Repository
    let options: ImportOptions
    let lock: RepositoryLock
    let warn: @Sendable (String) -> Void

    /// - Parameter warn: messages for the user (an index file that could not be read).
    /// - Throws: lock, storage and repository errors; nothing is written but the lock.
    public init(repository: Repository, options: ImportOptions, warn: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.repository = repository
        self.options = options
        self.warn = warn
        let (lock, scan) = try RepositoryLock.withScan(kind: .backup, repository: repository, hostname: options.lockHostname,
                                                       timing: options.lockTiming)
        self.lock = lock
        do {
            let condemned = try scan.condemnedPacks(action: "import not started")
            try repository.loadIndex { id, error in warn("index \(id.short) skipped: \(error)") }
            repository.index.exclude(condemned: condemned)
            if scan.hasDeadWriter(timing: options.lockTiming, now: lock.storageNow, measured: lock.clockOffset != nil,
                                  localHost: options.lockHostname) {
                try repository.indexUnindexedPacks(excluding: condemned)
            }
        } catch {
            lock.release()
            throw error
        }
    }

    /// Releases the lock. Snapshots already saved stay; one being built is abandoned.
    public func close() { lock.release() }

    /// Starts building one snapshot.
    ///
    /// - Parameters:
    ///   - progress: counts and lists what is imported, as for a backup.
    ///   - warnItem: each entry left out, with its path.
    public func snapshot(progress: BackupProgress = BackupProgress(),
                         warnItem: (@Sendable (BackupWarning) -> Void)? = nil) -> SnapshotImporter {
        SnapshotImporter(session: self, progress: progress, warnItem: warnItem)
    }
}
