import ArgumentParser
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage

struct ForgetCommand: ParsableCommand, CombinationValidating {
    static let configuration = CommandConfiguration(
        commandName: "forget", abstract: "Remove snapshots, given by ID or chosen by a retention policy.",
        discussion: """
        With IDs, removes exactly those snapshots. Otherwise snapshots (after --host/--path/--tag) are grouped \
        by --group-by and the --keep-* policy is applied to each group; a snapshot is kept when any rule keeps it. \
        Calendar rules use the wall clock of each snapshot's own UTC offset. Without a policy nothing is removed. \
        Only snapshot files are deleted; run prune (or pass --prune) to free the data. See docs/retention.md.
        """)

    @OptionGroup(title: "Global options") var global: GlobalOptions
    @OptionGroup var filter: ForgetFilterOptions

    @Argument(help: "Snapshots to remove: IDs, unique ID prefixes, or latest.")
    var snapshots: [String] = []

    @Flag(name: [.customShort("c"), .customLong("compact")], help: "Leave out the paths column of the tables.")
    var compact = false

    @Option(name: [.customShort("l"), .customLong("keep-last")], parsing: .unconditional,
            help: ArgumentHelp("Keep the N newest snapshots ('unlimited' keeps all).", valueName: "n"), transform: Self.count)
    var keepLast = 0
    @Option(name: [.customShort("H"), .customLong("keep-hourly")], parsing: .unconditional,
            help: ArgumentHelp("Keep the newest snapshot of each of the last N hours that have one.", valueName: "n"), transform: Self.count)
    var keepHourly = 0
    @Option(name: [.customShort("d"), .customLong("keep-daily")], parsing: .unconditional,
            help: ArgumentHelp("Keep the newest snapshot of each of the last N days that have one.", valueName: "n"), transform: Self.count)
    var keepDaily = 0
    @Option(name: [.customShort("w"), .customLong("keep-weekly")], parsing: .unconditional,
            help: ArgumentHelp("Keep the newest snapshot of each of the last N weeks (Monday to Sunday) that have one.", valueName: "n"),
            transform: Self.count)
    var keepWeekly = 0
    @Option(name: [.customShort("m"), .customLong("keep-monthly")], parsing: .unconditional,
            help: ArgumentHelp("Keep the newest snapshot of each of the last N months that have one.", valueName: "n"), transform: Self.count)
    var keepMonthly = 0
    @Option(name: [.customShort("y"), .customLong("keep-yearly")], parsing: .unconditional,
            help: ArgumentHelp("Keep the newest snapshot of each of the last N years that have one.", valueName: "n"), transform: Self.count)
    var keepYearly = 0

    @Option(name: .customLong("keep-within"), parsing: .unconditional,
            help: ArgumentHelp("Keep every snapshot taken within this duration (e.g. 2y5m7d3h) before the newest.", valueName: "duration"),
            transform: Self.duration)
    var keepWithin = RetentionDuration.zero
    @Option(name: .customLong("keep-within-hourly"), parsing: .unconditional, help: ArgumentHelp("Keep hourly snapshots within this duration.", valueName: "duration"),
            transform: Self.duration)
    var keepWithinHourly = RetentionDuration.zero
    @Option(name: .customLong("keep-within-daily"), parsing: .unconditional, help: ArgumentHelp("Keep daily snapshots within this duration.", valueName: "duration"),
            transform: Self.duration)
    var keepWithinDaily = RetentionDuration.zero
    @Option(name: .customLong("keep-within-weekly"), parsing: .unconditional, help: ArgumentHelp("Keep weekly snapshots within this duration.", valueName: "duration"),
            transform: Self.duration)
    var keepWithinWeekly = RetentionDuration.zero
    @Option(name: .customLong("keep-within-monthly"), parsing: .unconditional, help: ArgumentHelp("Keep monthly snapshots within this duration.", valueName: "duration"),
            transform: Self.duration)
    var keepWithinMonthly = RetentionDuration.zero
    @Option(name: .customLong("keep-within-yearly"), parsing: .unconditional, help: ArgumentHelp("Keep yearly snapshots within this duration.", valueName: "duration"),
            transform: Self.duration)
    var keepWithinYearly = RetentionDuration.zero

    @Option(name: .customLong("keep-tag"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Keep snapshots with these tags (repeatable; a,b means both; '' means untagged).", valueName: "tags"))
    var keepTags: [String] = []

    @Option(name: [.customShort("g"), .customLong("group-by")], parsing: .unconditional, help: ArgumentHelp("Group by host, paths and/or tags, comma-separated; '' for one group (default: host,paths).", valueName: "group"),
            transform: Self.grouping)
    var groupBy: SnapshotGrouping?

    @Flag(name: [.customShort("n"), .customLong("dry-run")], help: "Only show what would be removed.")
    var dryRun = false

    @Flag(help: "Run prune afterwards if snapshots were removed.")
    var prune = false

    @OptionGroup(title: "With --prune") var repacking: RepackOptions

    @Flag(name: .customLong("unsafe-allow-remove-all"), help: "Without a policy, remove every snapshot the --host/--path/--tag filters select.")
    var unsafeAllowRemoveAll = false

    var policy: RetentionPolicy {
        var p = RetentionPolicy()
        p.keepLast = keepLast; p.keepHourly = keepHourly; p.keepDaily = keepDaily
        p.keepWeekly = keepWeekly; p.keepMonthly = keepMonthly; p.keepYearly = keepYearly
        p.keepWithin = keepWithin; p.keepWithinHourly = keepWithinHourly; p.keepWithinDaily = keepWithinDaily
        p.keepWithinWeekly = keepWithinWeekly; p.keepWithinMonthly = keepWithinMonthly; p.keepWithinYearly = keepWithinYearly
        p.keepTags = keepTags
        return p
    }

    private var hasFilter: Bool { !filter.hosts.isEmpty || !filter.paths.isEmpty || !filter.tags.isEmpty }

    func validateCombination() throws {
        if repacking.isSet && !prune { throw ValidationError("--max-unused and --max-repack-size apply to the prune of --prune: add --prune") }
        if !snapshots.isEmpty {
            guard policy.isEmpty, !hasFilter, groupBy == nil, !unsafeAllowRemoveAll else {
                throw ValidationError("snapshot IDs cannot be combined with a --keep-* policy, --host/--path/--tag, --group-by or --unsafe-allow-remove-all")
            }
            return
        }
        guard policy.isEmpty, unsafeAllowRemoveAll else { return }  // no policy at all: `run` says so
        guard hasFilter else {
            throw ValidationError("--unsafe-allow-remove-all is not allowed unless a snapshot filter option (--host, --path, --tag) is specified")
        }
    }

    /// Neither a policy, nor IDs, nor --unsafe-allow-remove-all: nothing to do, said as
    /// restic says it (exit 0, so that a script whose policy is all zeros still runs).
    private var removesNothing: Bool { snapshots.isEmpty && policy.isEmpty && !unsafeAllowRemoveAll }

    func run() throws {
        if removesNothing {
            if !global.json { Output.line("no policy was specified, no snapshots will be removed") }
            return
        }
        try reportingErrors {
            let repository = try global.openRepository()
            var unreadable: [(id: SnapshotID, reason: String)] = []
            let plan = snapshots.isEmpty ? try planByPolicy(repository) : try planByID(repository, unreadable: &unreadable)
            try report(plan)
            try removeUnreadable(unreadable, from: repository)
            let doomed = plan.flatMap(\.remove)
            if dryRun {
                // What the prune would free once these snapshots are gone, as restic shows it.
                if prune && !doomed.isEmpty && !global.quiet && !global.json {
                    Output.line("dry run: the prune after removing \(doomed.count) snapshots would do:")
                    try estimatePrune(repository: repository, global: global, repacking: repacking, forgetting: Set(doomed.map(\.id)))
                }
                return
            }
            try remove(doomed, from: repository, announceEach: !snapshots.isEmpty)
            if snapshots.isEmpty && !global.quiet && !global.json { Output.line("removed \(doomed.count) snapshots") }
            if prune && !doomed.isEmpty {
                if !global.quiet && !global.json { Output.line("\(doomed.count) snapshots have been removed, running prune") }
                try runPrune(repository: repository, global: global, repacking: repacking)
            }
        }
    }

    /// The snapshots named; those named by ID whose file cannot be read (damaged, or not a
    /// snapshot) go to `unreadable` instead, to be removed all the same.
    private func planByID(_ repository: Repository, unreadable: inout [(id: SnapshotID, reason: String)]) throws -> [ForgetGroup] {
        let listed = try repository.backend.list(.snapshots)
        var seen = Set<SnapshotID>()
        var records: [SnapshotRecord] = []
        for reference in snapshots {
            do {
                guard let record = try global.namedSnapshot(reference, in: repository, listed: listed) else { continue }
                if seen.insert(record.id).inserted { records.append(record) }
            } catch where reference != "latest" && SnapshotForgetter.isUnreadableFile(error) {
                let id = try SnapshotStore.resolve(reference, in: repository, listed: listed)
                if seen.insert(id).inserted { unreadable.append((id, "\(error)")) }
            }
        }
        return [ForgetGroup(key: nil, keep: [], remove: records)]
    }

    /// Removes the snapshot files named by ID that cannot be read, saying so for each.
    private func removeUnreadable(_ unreadable: [(id: SnapshotID, reason: String)], from repository: Repository) throws {
        if dryRun {
            for (id, reason) in unreadable { Output.error("warning: snapshot \(id.short) cannot be read (\(reason)); it would be removed unread") }
            return
        }
        let reasons = Dictionary(unreadable.map { ($0.id, $0.reason) }, uniquingKeysWith: { a, _ in a })
        let failed = SnapshotForgetter(repository: repository).remove(unreadable.map(\.id)) { id in
            Output.error("warning: snapshot \(id.short) cannot be read (\(reasons[id] ?? "")); removed unread")
        }
        if let first = failed.first { throw first.error }
    }

    private func planByPolicy(_ repository: Repository) throws -> [ForgetGroup] {
        let records = try SnapshotStore.all(in: repository, skipped: global.snapshotSkipped).filter { record in
            // `--tag ''` selects untagged snapshots (restic); SnapshotFilter alone would let it match every snapshot.
            filter.snapshotFilter.matches(record.snapshot)
                && (filter.tags.isEmpty || filter.tags.contains(where: RetentionSnapshot(record).hasAllTags))
        }
        // An empty policy here is --unsafe-allow-remove-all (validate() refused every other).
        if !policy.isEmpty && !global.quiet && !global.json { Output.line("Applying policy: \(policy)") }
        return try SnapshotForgetter.plan(policy, for: records, groupedBy: groupBy ?? .hostAndPaths, now: WallClock.now)
    }

    private func report(_ plan: [ForgetGroup]) throws {
        if global.json {
            try Output.jsonLine(plan.map(ForgetGroupJSON.init))
            return
        }
        guard !global.quiet else { return }
        guard snapshots.isEmpty else {
            if dryRun { for record in plan.flatMap(\.remove) { Output.line("would remove snapshot \(record.id.short)") } }
            return
        }
        for group in plan {
            Output.line(group.key.map { "snapshots for (\($0)):" } ?? "snapshots:")
            if !group.keep.isEmpty {
                Output.line("keep \(group.keep.count) snapshots:")
                Table.print(Self.rows(group.keep.map { ($0.record, $0.reasons) }, compact: compact))
                Output.line("\(group.keep.count) snapshots")
                Output.line("")
            }
            if !group.remove.isEmpty {
                Output.line("remove \(group.remove.count) snapshots:")
                Table.print(Self.rows(group.remove.map { ($0, nil) }, compact: compact))
                Output.line("\(group.remove.count) snapshots")
                Output.line("")
            }
        }
        if dryRun { Output.line("would remove \(plan.reduce(0) { $0 + $1.remove.count }) snapshots (dry run)") }
    }

    /// Deletes the snapshot files. One that is already gone counts as removed; other
    /// failures are reported one by one and make the command fail at the end.
    private func remove(_ records: [SnapshotRecord], from repository: Repository, announceEach: Bool) throws {
        let failed = SnapshotForgetter(repository: repository).remove(records.map(\.id)) { id in
            if announceEach && !global.quiet && !global.json { Output.line("removed snapshot \(id.short)") }
        }
        for (id, error) in failed { Output.error("warning: snapshot \(id.short) could not be removed: \(error)") }
        if !failed.isEmpty { throw CLIError("\(failed.count) of \(records.count) snapshots could not be removed") }
    }

    /// Table rows: ID, time, host, tags, reasons (when given), paths (unless `compact`);
    /// further reasons and paths go on lines of their own.
    static func rows(_ entries: [(SnapshotRecord, [String]?)], compact: Bool = false) -> [[String]] {
        let withReasons = entries.contains { $0.1 != nil }
        var rows = [["ID", "Time", "Host", "Tags"] + (withReasons ? ["Reasons"] : []) + (compact ? [] : ["Paths"])]
        for (record, reasons) in entries {
            let s = record.snapshot
            let reasons = reasons ?? []
            for line in 0..<max(1, compact ? 0 : s.paths.count, withReasons ? reasons.count : 0) {
                var row = line == 0 ? [record.id.short, LocalTime.display(s.timestamp), s.hostname, s.tags.joined(separator: ",")]
                                    : ["", "", "", ""]
                if withReasons { row.append(line < reasons.count ? reasons[line] : "") }
                if !compact { row.append(line < s.paths.count ? s.paths[line] : "") }
                rows.append(row)
            }
        }
        return rows
    }

    /// `N` (N ≥ 0), `unlimited` or `-1` (restic's older spelling of unlimited).
    static func count(_ text: String) throws -> Int {
        if text == "unlimited" { return -1 }
        guard let value = Int(text), value >= -1 else {
            throw ValidationError("'\(text)' is not a count: use a whole number of 0 or more, or 'unlimited'")
        }
        return value
    }

    static func duration(_ text: String) throws -> RetentionDuration {
        do { return try RetentionDuration(parsing: text) } catch { throw ValidationError("\(error)") }
    }

    static func grouping(_ text: String) throws -> SnapshotGrouping {
        do { return try SnapshotGrouping(parsing: text) } catch { throw ValidationError("\(error)") }
    }
}

/// One group in `forget --json`: `{group_key: {hostname, paths, tags}, keep: [...], remove: [...]}`.
/// `group_key` is null when snapshots were named by ID; a key part the grouping does not
/// use is null. Kept snapshots carry `reasons`. restic's keys are there too, so that a
/// script written for `restic forget --json` reads it: `host` (empty when not grouped by
/// host), `paths`, `tags` (null when not grouped by them) and `reasons`, one
/// `{snapshot, matches}` per kept snapshot (restic's `counters` are left out).
struct ForgetGroupJSON: Encodable {
    let group: ForgetGroup

    init(_ group: ForgetGroup) { self.group = group }

    struct KeyJSON: Encodable {
        let key: SnapshotGroupKey
        enum CodingKeys: String, CodingKey { case hostname, paths, tags }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(key.hostname, forKey: .hostname)
            try c.encode(key.paths, forKey: .paths)
            try c.encode(key.tags, forKey: .tags)
        }
    }

    struct KeptJSON: Encodable {
        let snapshot: SnapshotJSON
        let reasons: [String]
        enum CodingKeys: String, CodingKey { case reasons }
        func encode(to encoder: Encoder) throws {
            try snapshot.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(reasons, forKey: .reasons)
        }
    }

    struct ReasonJSON: Encodable {
        let snapshot: SnapshotJSON
        let matches: [String]
    }

    enum CodingKeys: String, CodingKey { case groupKey = "group_key", keep, remove, host, paths, tags, reasons }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(group.key.map(KeyJSON.init), forKey: .groupKey)
        try c.encode(group.keep.map { KeptJSON(snapshot: SnapshotJSON($0.record), reasons: $0.reasons) }, forKey: .keep)
        try c.encode(group.remove.map(SnapshotJSON.init), forKey: .remove)
        try c.encode(group.key?.hostname ?? "", forKey: .host)
        try c.encode(group.key?.paths, forKey: .paths)
        try c.encode(group.key?.tags, forKey: .tags)
        try c.encode(group.keep.map { ReasonJSON(snapshot: SnapshotJSON($0.record), matches: $0.reasons) }, forKey: .reasons)
    }
}
