import SnapCore
import SnapRepository

/// What `Checker.run` found.
public struct CheckReport: Sendable {
    /// A problem with a whole file (index file, pack, snapshot), or a note about one.
    public struct Finding: Sendable, Equatable {
        public enum Severity: String, Sendable {
            /// Something is damaged or missing: `check` fails.
            case error
            /// Worth knowing, nothing is wrong (a pack no index names, a superseded file that cannot be read).
            case info
        }

        public enum Kind: String, Sendable {
            case indexUnreadable = "index_unreadable"
            case supersededIndexUnreadable = "superseded_index_unreadable"
            case packIndexedDifferently = "pack_indexed_differently"
            case packMissing = "pack_missing"
            case packSizeMismatch = "pack_size_mismatch"
            case packDamaged = "pack_damaged"
            case packHeaderMismatch = "pack_header_mismatch"
            case packUnreadable = "pack_unreadable"
            case packUnindexed = "pack_unindexed"
            case packUnindexedNeeded = "pack_unindexed_needed"
            case snapshotUnreadable = "snapshot_unreadable"
            case lockUnavailable = "lock_unavailable"
            /// A file in `locks/` cannot be read: prune deletes nothing and backups refuse to start.
            case lockUnreadable = "lock_unreadable"
            /// Storage failed (after retries) while reading: nothing is known about what was being read.
            case readFailed = "read_failed"
        }

        public var severity: Severity
        public var kind: Kind
        /// The file concerned, as `index/ID`, `data/ID` or `snapshots/ID` (full IDs).
        public var file: String
        public var message: String
    }

    /// Where a damaged blob is used: a file (data blob) or a folder whose listing is lost (tree blob).
    public struct Use: Sendable, Hashable {
        public var snapshot: SnapshotID
        /// The snapshot path of the file or folder.
        public var path: [UInt8]

        public init(snapshot: SnapshotID, path: [UInt8]) { self.snapshot = snapshot; self.path = path }
    }

    /// A blob that a snapshot needs and that cannot be read, or that failed verification.
    public struct DamagedBlob: Sendable {
        public enum Problem: String, Sendable {
            /// No index names the blob and no pack holds it.
            case missing
            /// Every pack that the index names for it is missing.
            case packMissing = "pack_missing"
            /// It is stored only in a pack that no index names (`repair index` restores it).
            case unindexed
            /// Its bytes fail authentication or decoding, or cannot be read.
            case damaged
            /// The index names it with the other blob type.
            case wrongType = "wrong_type"
        }

        public var id: BlobID
        /// The type the reference expects (data for file content, tree for a folder).
        public var type: BlobType
        public var problem: Problem
        /// The pack holding the damaged or missing copy, when known.
        public var pack: PackID?
        public var reason: String
        /// Every file or folder of every snapshot that needs the blob, when `locateDamage` was on.
        public var uses: [Use]

        /// Whether the data is gone (as opposed to present but not indexed).
        public var isLost: Bool { problem != .unindexed }
    }

    /// Counts of what was examined.
    public struct Statistics: Sendable, Equatable {
        public var indexFiles = 0
        public var snapshots = 0
        public var trees = 0
        /// Content references of files examined (each tree is examined once).
        public var contentReferences = 0
        /// Packs named by the index.
        public var packs = 0
        public var unindexedPacks = 0
        /// Packs downloaded and verified in full.
        public var packsRead = 0
        public var bytesRead: UInt64 = 0
    }

    public var findings: [Finding] = []
    /// Damaged or missing blobs, by ID.
    public var damagedBlobs: [DamagedBlob] = []
    public var statistics = Statistics()
    /// The packs verified in full (with `--read-data`, and packs whose size is wrong), in ID order.
    public var packsRead: [PackID] = []
    /// Packs present in storage that no index names, with their headers (those whose header reads).
    public var unindexedPacks: [IndexedPack] = []
    /// Of `unindexedPacks`, those that hold a blob some snapshot needs.
    public var neededUnindexedPacks: Set<PackID> = []
    /// Packs named by deletion marks (condemned by a prune; never indexed again by snap's writers).
    public var condemnedPacks: Set<PackID> = []
    /// The snapshots that could be read, oldest first.
    public var snapshots: [SnapshotRecord] = []

    public var errors: [Finding] { findings.filter { $0.severity == .error } }

    /// The number of problems: error findings plus damaged blobs.
    public var errorCount: Int { errors.count + damagedBlobs.count }

    /// Whether nothing is wrong.
    public var isHealthy: Bool { errorCount == 0 }

    /// IDs of blobs whose data is gone or damaged (not merely unindexed).
    public var lostBlobs: Set<BlobID> { Set(damagedBlobs.filter(\.isLost).map(\.id)) }

    /// For each snapshot with damage, the paths of the files and folders affected, sorted.
    public var affectedPaths: [SnapshotID: [[UInt8]]] {
        var paths: [SnapshotID: Set<[UInt8]>] = [:]
        for blob in damagedBlobs { for use in blob.uses { paths[use.snapshot, default: []].insert(use.path) } }
        return paths.mapValues { $0.sorted { $0.lexicographicallyPrecedes($1) } }
    }
}
