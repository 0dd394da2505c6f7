import SnapCore

/// Names a restic blob: the SHA-256 of its plaintext (restic `doc/design.rst`, "Trees and Data").
/// Unkeyed, unlike snap's `BlobID`, so the two never mix.
public struct ResticBlobID: TypedID { public let raw: RawID; public init(raw: RawID) { self.raw = raw } }
/// Names a restic pack file (`data/XX/ID`): the SHA-256 of its bytes.
public struct ResticPackID: TypedID { public let raw: RawID; public init(raw: RawID) { self.raw = raw } }
/// Names a restic snapshot file (`snapshots/ID`): the SHA-256 of its bytes.
public struct ResticSnapshotID: TypedID { public let raw: RawID; public init(raw: RawID) { self.raw = raw } }

/// The two kinds of blob a restic pack holds.
public enum ResticBlobType: String, Sendable, Codable, CustomStringConvertible {
    case data, tree
    public var description: String { rawValue }
}
