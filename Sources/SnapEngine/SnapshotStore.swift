import SnapCore
import SnapRepository
import SnapStorage

/// A snapshot with its ID.
public struct SnapshotRecord: Sendable {
    public let id: SnapshotID
    public let snapshot: Snapshot

    /// The order of snapshot lists, so the last is `latest`: oldest first; at the same time
    /// a snapshot made from another (`rewrite` without `--forget`, which keeps the time, and
    /// sets `original`) after the others, so that `latest` is the rewritten one; then by ID.
    public static func chronologically(_ a: SnapshotRecord, _ b: SnapshotRecord) -> Bool {
        let (ra, rb) = (a.snapshot.original == nil ? 0 : 1, b.snapshot.original == nil ? 0 : 1)
        return (a.snapshot.timestamp, ra, a.id) < (b.snapshot.timestamp, rb, b.id)
    }
}

/// Filters that narrow which snapshots a command considers (restic's `--host/--path/--tag`).
public struct SnapshotFilter: Sendable {
    public var hosts: [String] = []
    public var paths: [String] = []
    /// Each element is a comma-separated set that must all be present; any element may match.
    public var tags: [String] = []
    public init(hosts: [String] = [], paths: [String] = [], tags: [String] = []) {
        self.hosts = hosts; self.paths = paths; self.tags = tags
    }

    public func matches(_ s: Snapshot) -> Bool { matches(hostname: s.hostname, paths: s.paths, tags: s.tags) }

    /// Whether a snapshot with these labels matches (also another tool's snapshot, as
    /// `snap copy --from-repo restic:…` selects restic's).
    public func matches(hostname: String, paths snapshotPaths: [String], tags snapshotTags: [String]) -> Bool {
        if !hosts.isEmpty && !hosts.contains(hostname) { return false }
        // As restic's: every path given is among the snapshot's (which may have more).
        if !paths.isEmpty && !Set(paths).isSubset(of: snapshotPaths) { return false }
        if !tags.isEmpty {
            // As in restic, an empty tag group ("--tag ''") matches snapshots without tags.
            let stored = TagList.stored(snapshotTags)
            let any = tags.contains { group in
                let wanted = TagList.parse(group)
                return wanted.isEmpty ? snapshotTags.isEmpty : wanted.allSatisfy(stored.contains)
            }
            if !any { return false }
        }
        return true
    }
}

/// Reading, writing and selecting snapshots.
public enum SnapshotStore {
    public static func save(_ snapshot: Snapshot, in repository: Repository) throws -> SnapshotID {
        SnapshotID(raw: try repository.saveFile(.snapshots, plaintext: try JSONCoding.encode(snapshot)))
    }

    public static func load(_ id: SnapshotID, from repository: Repository) throws -> Snapshot {
        let file = FileName(.snapshots, id.hex)
        return try JSONCoding.decode(Snapshot.self, try repository.loadFile(file), file: file.description)
    }

    /// Every readable snapshot, oldest first. A snapshot that cannot be read or fails
    /// authentication is passed to `skipped` and left out, so one damaged file does not
    /// stop every command; storage errors other than a vanished file are thrown.
    ///
    /// - Parameter listed: `snapshots/` as already listed; listed here when `nil`.
    public static func all(in repository: Repository, listed: [FileInfo]? = nil,
                           skipped: (SnapshotID, Error) -> Void = { _, _ in }) throws -> [SnapshotRecord] {
        var records: [SnapshotRecord] = []
        var tried: Set<SnapshotID> = []
        _ = try read(listed ?? repository.backend.list(.snapshots), from: repository, into: &records, tried: &tried, skipped: skipped)
        return records.sorted(by: SnapshotRecord.chronologically)
    }

    /// Reads the listed snapshots not in `tried` into `records`; `true` when one of them was
    /// gone by then (deleted or replaced since it was listed).
    private static func read(_ listed: [FileInfo], from repository: Repository, into records: inout [SnapshotRecord],
                             tried: inout Set<SnapshotID>, skipped: (SnapshotID, Error) -> Void) throws -> Bool {
        var vanished = false
        for info in listed {
            guard let id = SnapshotID(hex: info.file.name), tried.insert(id).inserted else { continue }
            do {
                records.append(SnapshotRecord(id: id, snapshot: try load(id, from: repository)))
            } catch let error as RepositoryError {
                skipped(id, error)
            } catch StorageError.notFound {
                vanished = true
            }
        }
        return vanished
    }

    /// Every readable snapshot, as `all`, but when a listed snapshot is gone by the time it
    /// is read, `snapshots/` is listed again and the snapshots new to that listing are read
    /// too, until a round finds none gone. A command replacing a snapshot (`tag`, `rewrite
    /// --forget`, `repair snapshots --forget`) writes the new file before it deletes the old
    /// one, so a listing taken after the old one was found gone holds the new one. Prune
    /// needs this: the replacement may use blobs of packs a mark condemned, which it must not
    /// take for unused.
    ///
    /// - Returns: `nil` when snapshots were still vanishing after `rounds` listings.
    public static func allFollowingReplacements(in repository: Repository, rounds: Int = 8,
                                                skipped: (SnapshotID, Error) -> Void) throws -> [SnapshotRecord]? {
        var records: [SnapshotRecord] = []
        var tried: Set<SnapshotID> = []
        for _ in 0..<rounds {
            let vanished = try read(repository.backend.list(.snapshots), from: repository, into: &records, tried: &tried, skipped: skipped)
            if !vanished { return records.sorted(by: SnapshotRecord.chronologically) }
        }
        return nil
    }

    /// Resolves what a user typed: a full ID, a unique prefix of one, or `latest`.
    ///
    /// With `at`, picks the newest snapshot taken at or before that time. Filters apply to
    /// `latest` and `at`, which pass snapshots that cannot be read to `skipped`.
    /// - Parameter listed: `snapshots/` as already listed; listed here when `nil`.
    public static func find(_ reference: String, at: Timestamp? = nil, filter: SnapshotFilter = SnapshotFilter(),
                            in repository: Repository, listed: [FileInfo]? = nil,
                            skipped: (SnapshotID, Error) -> Void = { _, _ in }) throws -> SnapshotRecord {
        if reference == "latest" {
            let candidates = try all(in: repository, listed: listed, skipped: skipped).filter { filter.matches($0.snapshot) }
            let chosen = at.map { limit in candidates.filter { $0.snapshot.timestamp <= limit } } ?? candidates
            guard let last = chosen.last else {
                throw EngineError.snapshotNotFound(at == nil ? "no snapshot matches" : "no snapshot was taken at or before that time")
            }
            return last
        }
        let id = try resolve(reference, in: repository, listed: listed)
        return SnapshotRecord(id: id, snapshot: try load(id, from: repository))
    }

    /// The ID of the snapshot file a full ID or unique prefix names, without reading it
    /// (so also of a file that is damaged).
    /// - Parameter listed: `snapshots/` as already listed; listed here when `nil`.
    public static func resolve(_ reference: String, in repository: Repository, listed: [FileInfo]? = nil) throws -> SnapshotID {
        let prefix = reference.lowercased()
        guard !prefix.isEmpty, prefix.allSatisfy(\.isHexDigit) else { throw EngineError.snapshotNotFound("'\(reference)' is not a snapshot ID") }
        let matches = try (listed ?? repository.backend.list(.snapshots)).map(\.file.name).filter { $0.hasPrefix(prefix) }
        guard matches.count <= 1 else { throw EngineError.snapshotNotFound("'\(reference)' matches \(matches.count) snapshots; give more digits") }
        guard let name = matches.first, let id = SnapshotID(hex: name) else { throw EngineError.snapshotNotFound("no snapshot \(reference)") }
        return id
    }
}
