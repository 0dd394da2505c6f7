import SnapCore

/// What prune may do.
public struct PruneOptions: Sendable {
    /// Repack packs whose unused share exceeds this fraction (0.05 = 5 %).
    public var maxUnused = 0.05
    /// Stop choosing packs to repack once their total size reaches this (nil: no cap).
    public var maxRepackBytes: Int?
    /// Report what would happen; write and delete nothing.
    public var dryRun = false
    public var timing = LockTiming()
    public var hostname: String
    /// Packs to rewrite whatever their unused share (`repair packs`): their used blobs that
    /// still read intact are copied into new packs, damaged ones are left behind (and
    /// reported), and the packs are condemned like any repacked pack.
    public var rewrite: Set<PackID> = []
    /// Leave every pack but those of `rewrite` as it is, used or not.
    public var rewriteOnly = false
    /// With `dryRun` only: snapshots counted as gone, so that `forget --prune --dry-run`
    /// shows what the prune after the forget would free. Ignored by a real prune.
    public var assumeForgotten: Set<SnapshotID> = []
    public init(hostname: String) { self.hostname = hostname }
}

/// What prune found and did.
public struct PruneResult: Sendable, Codable {
    public var snapshots = 0
    public var reachableBlobs = 0
    public var packs = 0
    public var packsKept = 0
    public var packsRepacked = 0
    public var blobsRepacked = 0
    public var bytesRepacked = 0
    /// Packs condemned by this run (unused, or replaced by repacking).
    public var packsCondemned = 0
    public var bytesCondemned = 0
    /// Packs actually deleted by this run (condemned by this or an earlier run).
    public var packsDeleted = 0
    public var bytesDeleted = 0
    /// New packs written by repacking (they hold the used blobs of the repacked packs).
    public var packsWritten = 0
    public var bytesWritten = 0
    /// Condemned packs left for a later prune, because a backup that may still use them is running.
    public var packsDeferred = 0
    /// Condemned packs kept after all, because a snapshot written meanwhile uses them.
    public var packsResurrected = 0
    /// Packs no index named, found and indexed because a snapshot uses them.
    public var packsAdopted = 0
    public var indexFilesWritten = 0
    public var indexFilesDeleted = 0
    /// Blobs of `PruneOptions.rewrite` packs that were used but could not be copied: damaged.
    public var blobsDamaged = 0
    /// Packs of `PruneOptions.rewrite` that could not be rewritten: no index names them and
    /// their header cannot be read (or they are gone).
    public var packsNotRewritten: [PackID] = []
    public init() {}

    enum CodingKeys: String, CodingKey {
        case snapshots, reachableBlobs = "reachable_blobs", packs, packsKept = "packs_kept", packsRepacked = "packs_repacked"
        case blobsRepacked = "blobs_repacked", bytesRepacked = "bytes_repacked", packsCondemned = "packs_condemned"
        case bytesCondemned = "bytes_condemned", packsDeleted = "packs_deleted", bytesDeleted = "bytes_deleted"
        case packsWritten = "packs_written", bytesWritten = "bytes_written"
        case packsDeferred = "packs_deferred", packsResurrected = "packs_resurrected", packsAdopted = "packs_adopted"
        case indexFilesWritten = "index_files_written", indexFilesDeleted = "index_files_deleted"
        case blobsDamaged = "blobs_damaged", packsNotRewritten = "packs_not_rewritten"
    }
}

/// Prune could not run safely.
public enum PruneError: Error, CustomStringConvertible {
    case anotherPruneRunning(host: String, pid: Int32)
    case snapshotUnreadable(String)
    case blobsMissing(count: Int, example: String)
    case indexUnreadable(String)
    /// Snapshots kept vanishing between listing and reading (other commands replacing or
    /// forgetting them): what is used cannot be known.
    case snapshotsChanging

    public var description: String {
        switch self {
        case let .anotherPruneRunning(host, pid):
            return "another prune or a 'repair index' is running (host \(host), pid \(pid)); wait for it, or, if that process is gone, remove its lock with 'snap unlock' (once stale) or 'snap unlock --remove-all' (when no snap command runs on any host)"
        case let .snapshotUnreadable(detail):
            return "cannot read every snapshot (\(detail)); prune needs them all to know what is used: run 'snap check' and 'snap repair snapshots' ('snap forget ID' removes a snapshot file that cannot be read at all)"
        case let .blobsMissing(count, example):
            return "\(count) blobs used by snapshots are in no pack (e.g. \(example)); run 'snap check' and 'snap repair'"
        case .snapshotsChanging:
            return "snapshots kept being replaced or forgotten while prune read them, so it cannot tell what is used; it deleted nothing: run it again"
        case let .indexUnreadable(detail):
            return "cannot read the index (\(detail)); run 'snap repair index', then 'snap check'"
        }
    }
}
