/// A restic snapshot (`snapshots/ID`; restic `doc/design.rst`, "Snapshots").
public struct ResticSnapshot: Sendable, Decodable, Equatable {
    /// When the backup was taken, as restic wrote it (RFC 3339 with nanoseconds and offset).
    public let time: String
    public let parent: ResticSnapshotID?
    /// The root tree: one entry per top-level component of `paths`.
    public let tree: ResticBlobID
    public let paths: [String]
    public let hostname: String
    public let username: String
    public let uid: UInt32
    public let gid: UInt32
    public let excludes: [String]
    public let tags: [String]
    /// For a snapshot rewritten by `restic tag`, the ID of the first one of its line.
    public let original: ResticSnapshotID?
    public let programVersion: String?

    enum CodingKeys: String, CodingKey {
        case time, parent, tree, paths, hostname, username, uid, gid, excludes, tags, original
        case programVersion = "program_version"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        time = try c.decode(String.self, forKey: .time)
        parent = try c.decodeIfPresent(ResticSnapshotID.self, forKey: .parent)
        tree = try c.decode(ResticBlobID.self, forKey: .tree)
        paths = try c.decodeIfPresent([String].self, forKey: .paths) ?? []
        hostname = try c.decodeIfPresent(String.self, forKey: .hostname) ?? ""
        username = try c.decodeIfPresent(String.self, forKey: .username) ?? ""
        uid = try c.decodeIfPresent(UInt32.self, forKey: .uid) ?? 0
        gid = try c.decodeIfPresent(UInt32.self, forKey: .gid) ?? 0
        excludes = try c.decodeIfPresent([String].self, forKey: .excludes) ?? []
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        original = try c.decodeIfPresent(ResticSnapshotID.self, forKey: .original)
        programVersion = try c.decodeIfPresent(String.self, forKey: .programVersion)
    }

    /// `time` parsed; `nil` when restic's text is not RFC 3339.
    public var timestamp: ResticTime? { ResticTime(time) }
}
