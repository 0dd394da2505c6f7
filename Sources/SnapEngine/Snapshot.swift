import SnapCore

/// A backup's record (`snapshots/ID`, encrypted JSON; FORMAT.md, "Snapshots").
public struct Snapshot: Codable, Sendable, Equatable {
    /// When the backup was taken (RFC 3339 with nanoseconds and the host's UTC offset).
    public var time: String
    public var hostname: String
    public var username: String
    public var uid: UInt32
    public var gid: UInt32
    /// The absolute paths that were backed up.
    public var paths: [String]
    public var tags: [String]
    public var excludes: [String]
    /// The snapshot used for change detection, if any.
    public var parent: SnapshotID?
    /// The root tree: its entries are the first components of `paths`.
    public var tree: BlobID
    public var summary: Summary?
    public var programVersion: String
    /// For a snapshot rewritten from another (new tags: `snap tag`), the ID of the first
    /// snapshot in that line, so that tools can tell it is the same backup.
    public var original: SnapshotID?
    /// For a snapshot imported from another tool, the snapshot it was made from (restic's
    /// snapshot ID); `nil` for a snapshot snap backed up itself.
    public var importedFrom: SnapshotOrigin?

    public struct Summary: Codable, Sendable, Equatable {
        public var filesNew = 0
        public var filesChanged = 0
        public var filesUnchanged = 0
        public var directories = 0
        public var bytesRead: UInt64 = 0
        public var bytesProcessed: UInt64 = 0
        /// Plaintext bytes of blobs that were new to the repository.
        public var bytesAdded: UInt64 = 0
        /// Bytes written to storage (packs, after compression and encryption).
        public var bytesStored: UInt64 = 0
        public var blobsAdded = 0
        /// Of `blobsAdded`, how many hold file content (the rest are trees).
        public var dataBlobsAdded = 0
        public var warnings = 0
        public var durationSeconds: Double = 0
        public init() {}

        /// Missing keys decode as zero, so summaries written by other versions still load.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            filesNew = try c.decodeIfPresent(Int.self, forKey: .filesNew) ?? 0
            filesChanged = try c.decodeIfPresent(Int.self, forKey: .filesChanged) ?? 0
            filesUnchanged = try c.decodeIfPresent(Int.self, forKey: .filesUnchanged) ?? 0
            directories = try c.decodeIfPresent(Int.self, forKey: .directories) ?? 0
            bytesRead = try c.decodeIfPresent(UInt64.self, forKey: .bytesRead) ?? 0
            bytesProcessed = try c.decodeIfPresent(UInt64.self, forKey: .bytesProcessed) ?? 0
            bytesAdded = try c.decodeIfPresent(UInt64.self, forKey: .bytesAdded) ?? 0
            bytesStored = try c.decodeIfPresent(UInt64.self, forKey: .bytesStored) ?? 0
            blobsAdded = try c.decodeIfPresent(Int.self, forKey: .blobsAdded) ?? 0
            dataBlobsAdded = try c.decodeIfPresent(Int.self, forKey: .dataBlobsAdded) ?? 0
            warnings = try c.decodeIfPresent(Int.self, forKey: .warnings) ?? 0
            durationSeconds = try c.decodeIfPresent(Double.self, forKey: .durationSeconds) ?? 0
        }

        enum CodingKeys: String, CodingKey {
            case filesNew = "files_new", filesChanged = "files_changed", filesUnchanged = "files_unchanged"
            case directories, bytesRead = "bytes_read", bytesProcessed = "bytes_processed", bytesAdded = "bytes_added"
            case bytesStored = "bytes_stored", blobsAdded = "blobs_added", dataBlobsAdded = "data_blobs_added", warnings, durationSeconds = "duration_seconds"
        }
    }

    enum CodingKeys: String, CodingKey {
        case time, hostname, username, uid, gid, paths, tags, excludes, parent, tree, summary, original
        case importedFrom = "imported_from"
        case programVersion = "program_version"
    }

    public init(time: String, hostname: String, username: String, uid: UInt32, gid: UInt32, paths: [String],
                tags: [String], excludes: [String], parent: SnapshotID?, tree: BlobID, summary: Summary?, programVersion: String) {
        self.time = time; self.hostname = hostname; self.username = username; self.uid = uid; self.gid = gid
        self.paths = paths; self.tags = tags; self.excludes = excludes; self.parent = parent; self.tree = tree
        self.summary = summary; self.programVersion = programVersion
    }

    /// `time` as a timestamp (the epoch if it does not parse, which sorts it first).
    public var timestamp: Timestamp { RFC3339.parse(time) ?? Timestamp(seconds: 0, nanoseconds: 0) }
}

/// Where an imported snapshot came from (`Snapshot.importedFrom`).
public struct SnapshotOrigin: Codable, Sendable, Equatable, Hashable {
    /// The tool whose snapshot it was: `restic`, `tar`.
    public var format: String
    /// That tool's ID for it (restic: the 64-hex-digit snapshot ID); empty when it has none.
    public var id: String

    public init(format: String, id: String) { self.format = format; self.id = id }
}

/// The version written into snapshots.
public let snapVersion = "0.1.0"
