import SnapCore
import SnapRepository
import SnapStorage

/// Repairs a damaged repository: `repairIndex` rebuilds the index from the packs' headers,
/// `repairSnapshots` rewrites snapshots whose trees need blobs that are lost.
///
/// Both are idempotent: run again on the result, they change nothing. Unless `dryRun` is
/// set, `repairSnapshots` holds a `backup` lock while it runs, so that a prune running
/// meanwhile keeps the packs it relies on, and `repairIndex` a `prune` lock, so that no
/// prune runs beside it (FORMAT.md, "Locks and deletion marks").
public struct Repairer {
    let repository: Repository
    let hostname: String
    let workers: Int
    let progress: CheckProgress
    let timing: LockTiming

    /// - Parameters:
    ///   - hostname: recorded in the lock file.
    ///   - workers: threads reading pack headers or verifying packs.
    public init(repository: Repository, hostname: String, workers: Int = max(2, System.activeProcessorCount),
                progress: CheckProgress = CheckProgress(), timing: LockTiming = LockTiming()) {
        self.repository = repository
        self.hostname = hostname
        self.workers = workers
        self.progress = progress
        self.timing = timing
    }

    /// The tag every snapshot written by `repairSnapshots` carries.
    public static let repairedTag = "repaired"

    /// The suffix added to the name of a file or folder whose content is partly or wholly lost.
    public static let damagedSuffix = Array(".damaged".utf8)

    func lock(unless dryRun: Bool) throws -> RepositoryLock? {
        dryRun ? nil : try RepositoryLock(kind: .backup, repository: repository, hostname: hostname, timing: timing)
    }
}

/// Why a repair stopped without changing anything.
public enum RepairError: Error, CustomStringConvertible {
    /// Index files cannot be read: the blobs they name would look lost.
    case indexUnreadable([IndexID])
    /// A prune (or another `repair index`) holds a live lock: both rewrite the whole index.
    case pruneRunning(host: String, pid: Int32)
    /// The lock could not be refreshed for so long that a prune may have taken it for dead.
    case lockStale(seconds: Int)
    /// Storage failed while reading packs or trees, so what is lost is not known.
    case readFailed([String])

    public var description: String {
        switch self {
        case let .indexUnreadable(ids):
            return "\(ids.count) index files cannot be read (\(ids.prefix(3).map(\.short).joined(separator: ", "))\(ids.count > 3 ? ", …" : "")); "
                + "their blobs would look lost: run 'snap repair index' first"
        case let .readFailed(messages):
            return "storage failed while reading (\(messages.first ?? "")\(messages.count > 1 ? "; and \(messages.count - 1) more" : "")); "
                + "what is lost is not known, so nothing was changed: try again"
        case let .pruneRunning(host, pid):
            return "a prune or another 'repair index' is running (host \(host), pid \(pid)); wait for it and run the repair again, or, "
                + "if that process is gone, remove its lock with 'snap unlock' (once stale) or 'snap unlock --remove-all' (when no snap command runs on any host)"
        case let .lockStale(seconds):
            return "the repair's lock could not be refreshed for \(seconds) s, so a prune may have run beside it and deleted data it relies on; "
                + "it stopped before writing what would depend on that: run the repair again"
        }
    }
}
