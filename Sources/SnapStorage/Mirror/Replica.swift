/// One location of a mirrored repository.
public struct Replica: Sendable {
    /// How the replica is named in messages: its location without credentials.
    public let name: String
    public let backend: Backend

    public init(name: String, backend: Backend) {
        self.name = name
        self.backend = backend
    }
}

/// Tells whether `bytes` are the content a file's name promises (for content-named kinds,
/// whether their SHA-256 in lower-case hex equals the name). SnapStorage does not hash;
/// the composition layer supplies this.
public typealias NameVerifier = @Sendable (FileName, [UInt8]) -> Bool

extension FileKind {
    /// Whether files of this kind are named by the SHA-256 of their bytes, so any copy can
    /// be checked without the password: keys, data, index, snapshots.
    public var isContentNamed: Bool {
        switch self {
        case .keys, .data, .index, .snapshots: return true
        case .config, .locks: return false
        }
    }

    /// Whether a file of this kind may name, or make usable, files that a lagging replica
    /// might lack. A mirror stops writing these kinds to a replica once a write to it has
    /// failed, so that the replica stays a valid repository on its own.
    var isWithheldFromLaggingReplicas: Bool {
        switch self {
        case .config, .keys, .index, .snapshots: return true
        case .data, .locks: return false
        }
    }

    /// Whether a lagging replica keeps files of this kind when they are deleted elsewhere:
    /// it does not get the files that replace them (a superseding index, a new key), and
    /// its index files may name its packs. Deleting snapshots (roots) and locks is safe.
    var isKeptOnLaggingReplicas: Bool {
        switch self {
        case .config, .keys, .data, .index: return true
        case .snapshots, .locks: return false
        }
    }

    /// The kinds `snap mirror` compares and copies, in dependency order: key files first,
    /// then config, packs, the index files that name packs, and the snapshots that need
    /// both. Locks are per-process state and are never copied.
    static let mirrored: [FileKind] = [.keys, .config, .data, .index, .snapshots]
}
