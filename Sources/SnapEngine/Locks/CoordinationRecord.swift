import SnapCore
import SnapRepository
import SnapStorage

/// A file in `locks/` (encrypted JSON; FORMAT.md, "Locks and deletion marks"): a running
/// backup, a running prune, or a set of packs that a prune has condemned and will delete
/// once no backup can still depend on them.
public struct CoordinationRecord: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// A backup is running; it loaded (or is about to load) the index.
        case backup
        /// A prune is running; only one may run at a time.
        case prune
        /// Packs that no index names any more and that are to be deleted.
        case deletion
    }

    public var kind: Kind
    public var hostname: String
    public var pid: Int32
    /// When the process started holding the lock, or when the packs were condemned.
    public var created: String
    /// The last time the holder proved it is alive (locks only).
    public var refreshed: String
    /// Condemned packs (deletion marks only).
    public var packs: [PackID]?

    public init(kind: Kind, hostname: String, pid: Int32, created: String, refreshed: String, packs: [PackID]? = nil) {
        self.kind = kind; self.hostname = hostname; self.pid = pid; self.created = created; self.refreshed = refreshed; self.packs = packs
    }

    public var createdTime: Timestamp { RFC3339.parse(created) ?? Timestamp(seconds: 0, nanoseconds: 0) }
    public var refreshedTime: Timestamp { RFC3339.parse(refreshed) ?? Timestamp(seconds: 0, nanoseconds: 0) }
}

/// A coordination record and its file name.
public struct CoordinationFile: Sendable {
    public let id: RawID
    public let record: CoordinationRecord
}

/// Reading and writing `locks/`.
public enum Coordination {
    /// Writes a record; returns its name (the SHA-256 of the encrypted file).
    public static func write(_ record: CoordinationRecord, in repository: Repository) throws -> RawID {
        try repository.saveFile(.locks, plaintext: try JSONCoding.encode(record))
    }

    /// Removes a record; one that is already gone is fine.
    public static func remove(_ id: RawID, in repository: Repository) throws {
        do { try repository.backend.delete(FileName(.locks, id.hex)) } catch StorageError.notFound {}
    }

    /// Every readable record. Unreadable files (damaged, or from another repository) are skipped.
    public static func all(in repository: Repository) throws -> [CoordinationFile] {
        var result: [CoordinationFile] = []
        for info in try repository.backend.list(.locks) {
            // Records are a few hundred bytes; anything large is not one (e.g. an interrupted benchmark's file).
            guard let id = RawID(hex: info.file.name), info.size <= 1 << 20 else { continue }
            guard let bytes = try? repository.loadFile(info.file),
                  let record = try? JSONCoding.decode(CoordinationRecord.self, bytes, file: info.file.description) else { continue }
            result.append(CoordinationFile(id: id, record: record))
        }
        return result
    }
}
