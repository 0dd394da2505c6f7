import SnapCore

/// What retention needs to know about a snapshot.
public struct RetentionSnapshot: Sendable, Hashable {
    public var id: SnapshotID
    /// The snapshot's time with the UTC offset it was stored with.
    public var time: ZonedTimestamp
    public var hostname: String
    public var paths: [String]
    public var tags: [String]
    /// Whether it was made from another snapshot (`rewrite` without `--forget`, which keeps
    /// the time): of two at the same time, it is the newer, as `latest` takes it
    /// (`SnapshotRecord.chronologically`).
    public var madeFromAnother: Bool

    public init(id: SnapshotID, time: ZonedTimestamp, hostname: String, paths: [String], tags: [String], madeFromAnother: Bool = false) {
        self.id = id; self.time = time; self.hostname = hostname; self.paths = paths; self.tags = tags
        self.madeFromAnother = madeFromAnother
    }

    /// From a stored snapshot. A `time` that does not parse counts as 1970-01-01 UTC, the
    /// oldest possible, as `SnapshotStore.all` sorts it.
    public init(_ record: SnapshotRecord) {
        let s = record.snapshot
        self.init(id: record.id,
                  time: ZonedTimestamp(rfc3339: s.time) ?? ZonedTimestamp(instant: Timestamp(seconds: 0, nanoseconds: 0), utcOffset: 0),
                  hostname: s.hostname, paths: s.paths, tags: s.tags, madeFromAnother: s.original != nil)
    }

    /// Whether the snapshot has every tag of the comma-separated set `tagSet`; an empty set
    /// matches a snapshot without tags.
    public func hasAllTags(_ tagSet: String) -> Bool {
        let wanted = TagList.parse(tagSet)
        return wanted.isEmpty ? tags.isEmpty : wanted.allSatisfy(TagList.stored(tags).contains)
    }
}

/// The decision for one group of snapshots.
public struct RetentionOutcome: Sendable {
    /// A kept snapshot and every rule that kept it, e.g. `daily snapshot`, `within 2d`,
    /// `oldest monthly snapshot`, `tag: important`.
    public struct Kept: Sendable {
        public let snapshot: RetentionSnapshot
        public let reasons: [String]
    }

    /// Newest first.
    public var keep: [Kept]
    /// Newest first.
    public var remove: [RetentionSnapshot]
}

/// A group's key, its snapshots and the decision for them.
public struct RetentionGroupOutcome: Sendable {
    public let key: SnapshotGroupKey
    public let outcome: RetentionOutcome
}

/// Applies retention policies: pure functions of the snapshots, the policy and the time.
public enum Retention {
    /// Divides `snapshots` by `grouping`; groups are ordered by key, snapshots keep their order.
    public static func groups(of snapshots: [RetentionSnapshot], by grouping: SnapshotGrouping) -> [(key: SnapshotGroupKey, snapshots: [RetentionSnapshot])] {
        var groups: [SnapshotGroupKey: [RetentionSnapshot]] = [:]
        for snapshot in snapshots { groups[grouping.key(for: snapshot), default: []].append(snapshot) }
        return groups.sorted { $0.key < $1.key }.map { (key: $0.key, snapshots: $0.value) }
    }

    /// Groups `snapshots` and applies `policy` to each group on its own.
    public static func plan(_ policy: RetentionPolicy, for snapshots: [RetentionSnapshot], groupedBy grouping: SnapshotGrouping,
                            now: Timestamp) -> [RetentionGroupOutcome] {
        groups(of: snapshots, by: grouping).map { RetentionGroupOutcome(key: $0.key, outcome: apply(policy, to: $0.snapshots, now: now)) }
    }

    /// Decides which of `snapshots` (one group) `policy` keeps.
    ///
    /// Snapshots are taken newest first (ties: the larger ID first). A snapshot is kept when
    /// any rule keeps it:
    /// - `keepTags`: it has all tags of one listed set.
    /// - `keepWithin`: it was taken strictly after the reference time moved back by the
    ///   duration (`ZonedTimestamp.goingBack(by:)`). The reference is the newest snapshot
    ///   of the group taken before `now`; snapshots from the future never move it, and if
    ///   every snapshot is in the future, every snapshot is within.
    /// - count rules (`keepLast`, `keepHourly` … `keepYearly`): each keeps the first
    ///   snapshot it meets of each period it has not met yet, until it has kept its count.
    ///   `keepLast` treats every snapshot as its own period.
    /// - within rules (`keepWithinHourly` …): like count rules without a count, for
    ///   snapshots inside the rule's duration.
    /// - the oldest snapshot: a count rule that has count left when it reaches the oldest
    ///   snapshot of the group, or a within rule whose duration reaches it, keeps it too,
    ///   even when its period was already counted (reason `oldest …`), as restic does.
    ///
    /// An empty policy keeps everything (reason `policy is empty`).
    public static func apply(_ policy: RetentionPolicy, to snapshots: [RetentionSnapshot], now: Timestamp) -> RetentionOutcome {
        // Newest first, in the reverse of `latest`'s order (`SnapshotRecord.chronologically`).
        let list = snapshots.sorted {
            ($0.time.instant, $0.madeFromAnother ? 1 : 0, $0.id) > ($1.time.instant, $1.madeFromAnother ? 1 : 0, $1.id)
        }
        guard !policy.isEmpty else {
            return RetentionOutcome(keep: list.map { .init(snapshot: $0, reasons: ["policy is empty"]) }, remove: [])
        }
        // The reference for durations; nil (everything in the future) puts every snapshot within.
        let reference = list.first { $0.time.instant < now }?.time
        let withinLimit = reference?.goingBack(by: policy.keepWithin)
        let ruleLimits = policy.withinRules.map { reference?.goingBack(by: $0.duration) }
        func isWithin(_ snapshot: RetentionSnapshot, after limit: Timestamp?) -> Bool {
            limit.map { snapshot.time.instant > $0 } ?? true
        }

        var remaining = policy.countRules.map(\.count)
        var countSeen = Array(repeating: Set<Int64>(), count: remaining.count)
        var withinSeen = Array(repeating: Set<Int64>(), count: policy.withinRules.count)
        var outcome = RetentionOutcome(keep: [], remove: [])

        for (index, snapshot) in list.enumerated() {
            let isOldest = index == list.count - 1
            var reasons: [String] = []
            for tagSet in policy.keepTags where snapshot.hasAllTags(tagSet) {
                reasons.append(tagSet.isEmpty ? "untagged" : "tag: \(tagSet)")
            }
            if !policy.keepWithin.isZero && isWithin(snapshot, after: withinLimit) {
                reasons.append("within \(policy.keepWithin)")
            }
            for (rule, (period, _)) in policy.countRules.enumerated() where remaining[rule] != 0 {
                let bucket = period?.bucket(of: snapshot.time) ?? Int64(index)
                let counted = countSeen[rule].contains(bucket)
                guard !counted || isOldest else { continue }
                countSeen[rule].insert(bucket)
                if remaining[rule] > 0 { remaining[rule] -= 1 }
                let name = period.map { "\($0.adjective) snapshot" } ?? "last snapshot"
                reasons.append(counted ? "oldest \(name)" : name)
            }
            for (rule, (period, duration)) in policy.withinRules.enumerated()
            where !duration.isZero && isWithin(snapshot, after: ruleLimits[rule]) {
                let bucket = period.bucket(of: snapshot.time)
                let counted = withinSeen[rule].contains(bucket)
                guard !counted || isOldest else { continue }
                withinSeen[rule].insert(bucket)
                let name = "\(period.adjective) within \(duration)"
                reasons.append(counted ? "oldest \(name)" : name)
            }
            if reasons.isEmpty {
                outcome.remove.append(snapshot)
            } else {
                outcome.keep.append(.init(snapshot: snapshot, reasons: reasons))
            }
        }
        return outcome
    }
}
