import SnapCore
import SnapRepository
import SnapStorage

/// What `forget` decided for one group of snapshots, oldest first.
public struct ForgetGroup: Sendable {
    /// The group's host, paths and tags; `nil` when the snapshots were named by ID.
    public let key: SnapshotGroupKey?
    /// The snapshots kept, each with the rules that keep it.
    public var keep: [(record: SnapshotRecord, reasons: [String])]
    public var remove: [SnapshotRecord]

    public init(key: SnapshotGroupKey?, keep: [(record: SnapshotRecord, reasons: [String])], remove: [SnapshotRecord]) {
        self.key = key
        self.keep = keep
        self.remove = remove
    }
}

/// Chooses and removes snapshots for `snap forget`. Only snapshot files are deleted (prune
/// frees their data) and no lock is taken: a snapshot file gone early never takes data from
/// a running command, which holds its tree already (docs/retention.md, "Deleting").
public struct SnapshotForgetter {
    private let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    /// What `policy` keeps and removes of `records`, group by group, at `now`. An empty
    /// policy removes every record: that is `--unsafe-allow-remove-all`, which the caller
    /// allows only with a snapshot filter.
    ///
    /// - Throws: `EngineError.wouldRemoveWholeGroup` when a non-empty policy keeps none of a
    ///   group's snapshots (restic refuses that too: a policy that does so is a mistake).
    public static func plan(_ policy: RetentionPolicy, for records: [SnapshotRecord], groupedBy grouping: SnapshotGrouping,
                            now: Timestamp) throws -> [ForgetGroup] {
        let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let candidates = records.map(RetentionSnapshot.init)
        if policy.isEmpty {
            return Retention.groups(of: candidates, by: grouping).map { group in
                ForgetGroup(key: group.key, keep: [], remove: group.snapshots.compactMap { byID[$0.id] })
            }
        }
        return try Retention.plan(policy, for: candidates, groupedBy: grouping, now: now).map { group in
            if group.outcome.keep.isEmpty && !group.outcome.remove.isEmpty {
                throw EngineError.wouldRemoveWholeGroup(group.key.description)
            }
            return ForgetGroup(key: group.key,
                               keep: group.outcome.keep.reversed().compactMap { kept in byID[kept.snapshot.id].map { ($0, kept.reasons) } },
                               remove: group.outcome.remove.reversed().compactMap { byID[$0.id] })
        }
    }

    /// Deletes the snapshot files of `ids` one by one, telling `removed` of each; one that is
    /// already gone counts as removed. Returns those that could not be deleted, with why.
    public func remove(_ ids: [SnapshotID], removed: (SnapshotID) -> Void = { _ in }) -> [(id: SnapshotID, error: Error)] {
        var failed: [(id: SnapshotID, error: Error)] = []
        for id in ids {
            do {
                try repository.backend.delete(FileName(.snapshots, id.hex))
                removed(id)
            } catch {
                failed.append((id, error))
            }
        }
        return failed
    }

    /// Whether `error`, met reading a snapshot named by ID, says that its file's bytes cannot
    /// be used (damaged, or written by a newer version), as opposed to a repository that
    /// cannot be read at all. Such a file can be removed unread, since its name is its ID:
    /// forgetting it is the way out of a damaged snapshot file, which otherwise stops every prune.
    public static func isUnreadableFile(_ error: Error) -> Bool {
        switch error as? RepositoryError {
        case .damaged?, .unsupportedVersion?: return true
        default: return false
        }
    }
}
