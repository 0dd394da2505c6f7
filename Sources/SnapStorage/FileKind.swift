/// The kinds of file a repository holds; each kind lives in its own folder of the backend.
public enum FileKind: String, CaseIterable, Sendable, Codable {
    /// The single `config` file.
    case config
    /// Password-protected master keys (`keys/`).
    case keys
    /// Pack files of blobs (`data/`).
    case data
    /// Index files (`index/`).
    case index
    /// Snapshot files (`snapshots/`).
    case snapshots
    /// Lock files (`locks/`).
    case locks
}

/// A file of a repository: its kind and its name within that kind (64 hex digits, or `config`).
public struct FileName: Hashable, Sendable, CustomStringConvertible {
    public let kind: FileKind
    public let name: String

    public init(_ kind: FileKind, _ name: String) { self.kind = kind; self.name = name }

    /// The one config file.
    public static let config = FileName(.config, "config")

    public var description: String { kind == .config ? "config" : "\(kind.rawValue)/\(name)" }
}

/// What `stat` and `list` report about a file.
public struct FileInfo: Hashable, Sendable {
    public let file: FileName
    public let size: Int
    /// When the storage last wrote the file, in seconds since 1970 by the storage's own
    /// clock (file system or server), where `stat` can tell; `nil` otherwise. Locks use it
    /// to measure this host's clock against the storage's (FORMAT.md, "Clock skew").
    /// Not part of equality: copies of one file on two replicas are the same file.
    public let modified: Double?

    public init(file: FileName, size: Int, modified: Double? = nil) {
        self.file = file; self.size = size; self.modified = modified
    }

    public static func == (a: FileInfo, b: FileInfo) -> Bool { a.file == b.file && a.size == b.size }
    public func hash(into hasher: inout Hasher) { hasher.combine(file); hasher.combine(size) }
}
