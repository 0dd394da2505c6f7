import SnapCore
import SnapRepository
import SnapStorage
import Synchronization

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

    /// Who holds a lock, the same in every refreshed copy of it: a mark waits for holders.
    public struct Holder: Codable, Sendable, Hashable {
        public var hostname: String
        public var pid: Int32
        public var created: String
        public init(hostname: String, pid: Int32, created: String) { self.hostname = hostname; self.pid = pid; self.created = created }
    }

    public var kind: Kind
    public var hostname: String
    public var pid: Int32
    /// When the process started holding the lock, or when the packs were condemned.
    public var created: String
    /// The last time the holder proved it is alive (locks only; a mark's is its `created`).
    public var refreshed: String
    /// Condemned packs (deletion marks only).
    public var packs: [PackID]?
    /// Deletion marks only: the backups whose locks existed once the mark was written. The
    /// mark's packs are deleted only when none of them is alive, so the order of backups and
    /// marks is observed in storage, not compared between hosts' clocks. `nil` until a prune
    /// has listed the locks after writing the mark (FORMAT.md, "Locks and deletion marks").
    public var waitFor: [Holder]?

    public init(kind: Kind, hostname: String, pid: Int32, created: String, refreshed: String, packs: [PackID]? = nil) {
        self.kind = kind; self.hostname = hostname; self.pid = pid; self.created = created; self.refreshed = refreshed; self.packs = packs
    }

    public var holder: Holder { Holder(hostname: hostname, pid: pid, created: created) }

    /// `refreshed` as a time; a record whose times do not parse is refused when read.
    public var refreshedTime: Timestamp { RFC3339.parse(refreshed) ?? Timestamp(seconds: 0, nanoseconds: 0) }

    /// Why the record cannot be trusted, or `nil`.
    var problem: String? {
        if RFC3339.parse(created) == nil { return "its creation time '\(created)' is not a valid time" }
        if RFC3339.parse(refreshed) == nil { return "its refresh time '\(refreshed)' is not a valid time" }
        if hostname.isEmpty { return "it names no host" }
        if kind == .deletion && packs == nil { return "it is a deletion mark without packs" }
        return nil
    }
}

/// A coordination record, its file name, and when the storage wrote the file (by the
/// storage's clock, where the backend reports it: `Coordination.scan(_:times:)`).
public struct CoordinationFile: Sendable {
    public let id: RawID
    public let record: CoordinationRecord
    public var modified: Double? = nil
}

/// A file in `locks/` that could not be read, authenticated or decoded. It may be a running
/// backup's lock or a deletion mark, so every reader assumes the worst of it.
public struct UnreadableCoordinationFile: Sendable, CustomStringConvertible {
    public let file: FileName
    public let reason: String

    public var description: String { "\(file) cannot be read (\(reason))" }
}

/// Everything in `locks/` at one listing.
public struct CoordinationScan: Sendable {
    public var files: [CoordinationFile] = []
    public var unreadable: [UnreadableCoordinationFile] = []

    public var marks: [CoordinationFile] { files.filter { $0.record.kind == .deletion } }

    /// Packs named by deletion marks; throws when a file that may be a mark cannot be read,
    /// since its packs would then be reused and could be deleted under the caller.
    public func condemnedPacks(action: String) throws -> Set<PackID> {
        if let first = unreadable.first { throw CoordinationError.unreadable(first, action: action, others: unreadable.count - 1) }
        return Set(marks.flatMap { $0.record.packs ?? [] })
    }

    /// A live `prune` lock that this process did not write, if any. Prune and `repair index`
    /// both hold one: each rewrites the whole index from a listing of packs, so they run one
    /// at a time. Both write their lock before scanning, so of two that start together
    /// each sees the other and neither runs.
    public func otherPruneLock(now: Timestamp, measured: Bool, localHost: String, timing: LockTiming) -> CoordinationFile? {
        files.first { file in
            file.record.kind == .prune && !(file.record.pid == getpidValue() && file.record.hostname == localHost)
                && timing.isAlive(file, now: now, measured: measured, localHost: localHost)
        }
    }
}

/// Failures of the lock protocol.
public enum CoordinationError: Error, CustomStringConvertible {
    /// A file in `locks/` cannot be read; it may be a deletion mark.
    case unreadable(UnreadableCoordinationFile, action: String, others: Int)
    /// This host's clock differs from the storage's by more than the protocol tolerates.
    case clockSkew(offset: Double, allowed: Double, location: String)

    public var description: String {
        switch self {
        case let .unreadable(file, action, others):
            let more = others > 0 ? " (and \(others) more)" : ""
            return "\(action): \(file)\(more); it may be a deletion mark naming packs that must not be reused. "
                + "Run 'snap check'; if it stays unreadable and no snap command runs on any host, remove it with 'snap unlock --remove-all'"
        case let .clockSkew(offset, allowed, location):
            let minutes = Int((abs(offset) / 60).rounded())
            return "this host's clock is \(minutes) minutes \(offset < 0 ? "ahead of" : "behind") the clock of \(location) "
                + "(at most \(Int(allowed / 60)) are safe for locks); set the clock right (NTP) and run the command again"
        }
    }
}

/// Reading and writing `locks/`.
public enum Coordination {
    /// Coordination records are a few hundred bytes, marks up to ~70 bytes a pack; a file
    /// larger than this is not one (and is reported unreadable rather than loaded).
    static let largestFile = 256 << 20

    /// The locks written through each open repository and not removed, by file name: `scan`
    /// takes them from here instead of downloading them again (a file's name is the hash of
    /// its bytes, so the file holds what was written). Another open of the same repository
    /// (another command) reads them like any other file; deletion marks, which can be
    /// large, are always read.
    private static let ownLocks = Mutex<[OwnLock: CoordinationRecord]>([:])
    private struct OwnLock: Hashable {
        let repository: ObjectIdentifier
        let id: RawID
        init(_ repository: Repository, _ id: RawID) { self.repository = ObjectIdentifier(repository); self.id = id }
    }

    /// Writes a record; returns its name (the SHA-256 of the encrypted file).
    public static func write(_ record: CoordinationRecord, in repository: Repository) throws -> RawID {
        let id = try repository.saveFile(.locks, plaintext: try JSONCoding.encode(record), withdrawingOnFailure: true)
        if record.kind != .deletion { ownLocks.withLock { $0[OwnLock(repository, id)] = record } }
        return id
    }

    /// Removes a record; one that is already gone is fine.
    public static func remove(_ id: RawID, in repository: Repository) throws {
        try repository.backend.delete(FileName(.locks, id.hex))
        ownLocks.withLock { _ = $0.removeValue(forKey: OwnLock(repository, id)) }
    }

    /// Reads every file in `locks/`. One that cannot be read, authenticated or decoded is
    /// returned as unreadable, never skipped. Listing errors are thrown.
    ///
    /// A file deleted between listing and reading may have been replaced rather than
    /// released: a prune settling a deletion mark writes the settled copy and then deletes
    /// the first, and a lock's refresh writes its new file before deleting the old. The
    /// replacement was written before the deletion, so `locks/` is listed again and read
    /// anew until no file vanishes (at most `rescans` times; after that a vanished file is
    /// taken as released). Skipping a vanished mark instead let a backup that listed the
    /// unsettled copy, and read it after the settle, deduplicate against condemned packs
    /// that the prune then deleted (campaign 16, F2).
    ///
    /// With `times`, each file's storage modification time is filled in (from the listing,
    /// or a `stat` where the listing has none), for judging whether locks are alive.
    /// - Parameter listed: `locks/` as already listed; listed here when `nil`.
    public static func scan(_ repository: Repository, times: Bool = false, listed: [FileInfo]? = nil) throws -> CoordinationScan {
        var listing = try listed ?? repository.backend.list(.locks)
        var round = 1
        while true {
            var vanished = false
            let result = try scanOnce(repository, times: times, listing: listing, vanished: &vanished)
            if !vanished || round >= rescans { return result }
            listing = try repository.backend.list(.locks)
            round += 1
        }
    }

    /// Listings of `locks/` a scan makes at most when files vanish as it reads them.
    static let rescans = 5

    private static func scanOnce(_ repository: Repository, times: Bool, listing: [FileInfo], vanished: inout Bool) throws -> CoordinationScan {
        var result = CoordinationScan()
        for info in listing {
            guard let id = RawID(hex: info.file.name) else { continue }  // not a coordination file's name
            guard info.size <= largestFile else {
                result.unreadable.append(UnreadableCoordinationFile(file: info.file, reason: "\(info.size) bytes, too large for a lock or mark"))
                continue
            }
            do {
                let own = ownLocks.withLock { $0[OwnLock(repository, id)] }
                let record = try own ?? JSONCoding.decode(CoordinationRecord.self, try repository.loadFile(info.file), file: info.file.description)
                if let problem = record.problem {
                    result.unreadable.append(UnreadableCoordinationFile(file: info.file, reason: problem))
                } else {
                var modified = info.modified
                // This command's own locks are alive: no request to learn their time.
                if times && modified == nil && own == nil { modified = try? repository.backend.stat(info.file).modified }
                result.files.append(CoordinationFile(id: id, record: record, modified: modified))
                }
            } catch StorageError.notFound {
                vanished = true
            } catch {
                result.unreadable.append(UnreadableCoordinationFile(file: info.file, reason: "\(error)"))
            }
        }
        return result
    }
}
