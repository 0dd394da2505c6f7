import ArgumentParser
import Foundation
import SnapCore
import SnapEngine
import SnapRepository

struct SnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "snapshots", abstract: "List snapshots.")

    @OptionGroup(title: "Global options") var global: GlobalOptions
    @OptionGroup var filter: FilterOptions

    @Argument(help: "Only these snapshots: IDs, unique ID prefixes, or latest (the newest that the filters match), as in restic.")
    var snapshots: [String] = []

    @Option(name: .customLong("latest"), parsing: .unconditional, help: ArgumentHelp("Only the last N snapshots of each group (host and paths, or --group-by).", valueName: "N"))
    var latest: Int?

    @Option(name: [.customShort("g"), .customLong("group-by")], parsing: .unconditional,
            help: ArgumentHelp("List the snapshots by group: host, paths and/or tags, comma-separated.", valueName: "group"),
            transform: ForgetCommand.grouping)
    var groupBy: SnapshotGrouping?

    @Flag(name: [.customShort("c"), .customLong("compact")], help: "Leave out the paths column.")
    var compact = false

    func validate() throws {
        if let latest, latest < 0 { throw ValidationError("--latest takes a number of snapshots (0, as in restic, for all)") }
    }

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            let groups = grouped(try selected(in: repository))
            if global.json {
                if grouping == nil {
                    try Output.json(groups.flatMap(\.records).map(SnapshotJSON.init))
                } else {
                    try Output.json(groups.map { SnapshotGroupJSON(key: $0.key, snapshots: $0.records.map(SnapshotJSON.init)) })
                }
                return
            }
            for (n, group) in groups.enumerated() {
                if grouping != nil {
                    if n > 0 { Output.line("") }
                    Output.line("snapshots for \(group.key):")
                }
                var rows = [["ID", "Time", "Host", "Tags"] + (compact ? [] : ["Paths"])]
                for r in group.records {
                    rows.append([r.id.short, LocalTime.display(r.snapshot.timestamp), r.snapshot.hostname, r.snapshot.tags.joined(separator: ",")]
                                + (compact ? [] : [r.snapshot.paths.joined(separator: " ")]))
                }
                Table.print(rows)
                if !global.quiet { Output.line("\(group.records.count) snapshots") }
            }
        }
    }

    /// `--group-by`, unless it names nothing (`--group-by ''`: one list, as restic prints it).
    private var grouping: SnapshotGrouping? {
        guard let groupBy, groupBy != SnapshotGrouping() else { return nil }
        return groupBy
    }

    /// The snapshots by `--group-by` group (one group without it), each oldest first. As in
    /// restic, `--latest N` keeps the last N of each host and paths within each group.
    private func grouped(_ records: [SnapshotRecord]) -> [(key: SnapshotGroupKey, records: [SnapshotRecord])] {
        var records = records
        if let latest, latest > 0 {
            let within = SnapshotGrouping(byHost: true, byPaths: true, byTags: grouping?.byTags ?? false)
            records = Dictionary(grouping: records) {
                within.key(hostname: $0.snapshot.hostname, paths: $0.snapshot.paths, tags: $0.snapshot.tags)
            }.values.flatMap { $0.sorted(by: SnapshotRecord.chronologically).suffix(latest) }
        }
        guard let grouping else {
            // One list, oldest first, as without --latest.
            return [(SnapshotGroupKey(), records.sorted(by: SnapshotRecord.chronologically))]
        }
        let byKey = Dictionary(grouping: records) {
            grouping.key(hostname: $0.snapshot.hostname, paths: $0.snapshot.paths, tags: $0.snapshot.tags)
        }
        return byKey.map { (key: $0.key, records: $0.value.sorted(by: SnapshotRecord.chronologically)) }.sorted { $0.key < $1.key }
    }

    /// Every snapshot the filters match, or the ones named, oldest first.
    private func selected(in repository: Repository) throws -> [SnapshotRecord] {
        guard !snapshots.isEmpty else {
            return try SnapshotStore.all(in: repository, skipped: global.snapshotSkipped).filter { filter.snapshotFilter.matches($0.snapshot) }
        }
        let listed = try repository.backend.list(.snapshots)
        var named: [SnapshotID: SnapshotRecord] = [:]
        for reference in snapshots {
            guard let record = try global.namedSnapshot(reference, filter: filter.snapshotFilter, in: repository, listed: listed) else { continue }
            named[record.id] = record
        }
        return named.values.sorted(by: SnapshotRecord.chronologically)
    }
}

/// A group in `snapshots --group-by --json`, as restic prints it:
/// `{"group_key": {"hostname", "paths", "tags"}, "snapshots": [...]}`.
struct SnapshotGroupJSON: Encodable {
    let key: SnapshotGroupKey
    let snapshots: [SnapshotJSON]

    enum CodingKeys: String, CodingKey { case groupKey = "group_key", snapshots }
    enum KeyCodingKeys: String, CodingKey { case hostname, paths, tags }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var k = c.nestedContainer(keyedBy: KeyCodingKeys.self, forKey: .groupKey)
        // As restic's: an empty host name and null paths or tags for what is not grouped by.
        try k.encode(key.hostname ?? "", forKey: .hostname)
        try k.encode(key.paths, forKey: .paths)
        try k.encode(key.tags, forKey: .tags)
        try c.encode(snapshots, forKey: .snapshots)
    }
}

/// The JSON shape of a snapshot in `snapshots --json` and `cat snapshot`.
struct SnapshotJSON: Encodable {
    let id: String
    let shortID: String
    let time: String
    let hostname: String
    let username: String
    let uid: UInt32
    let gid: UInt32
    let paths: [String]
    let tags: [String]
    let excludes: [String]
    let parent: String?
    let original: String?
    /// For a snapshot imported from another tool: `{"format": "restic", "id": …}`.
    let importedFrom: SnapshotOrigin?
    let tree: String
    let summary: SummaryJSON?
    let programVersion: String

    init(_ r: SnapshotRecord) {
        let s = r.snapshot
        id = r.id.hex; shortID = r.id.short; time = s.time; hostname = s.hostname; username = s.username
        uid = s.uid; gid = s.gid; paths = s.paths; tags = s.tags; excludes = s.excludes
        parent = s.parent?.hex; original = s.original?.hex; importedFrom = s.importedFrom; tree = s.tree.hex
        summary = s.summary.map { SummaryJSON(summary: $0, time: s.time) }; programVersion = s.programVersion
    }

    /// The stored summary's fields, and restic 0.17's names for what they count, so that a
    /// script reading `restic snapshots --json` finds them: `backup_start`/`backup_end`,
    /// `files_unmodified`, `data_blobs`, `tree_blobs`, `data_added`, `data_added_packed`,
    /// `total_files_processed`, `total_bytes_processed` (restic's folder counts are not kept).
    struct SummaryJSON: Encodable {
        let summary: Snapshot.Summary
        let time: String

        enum CodingKeys: String, CodingKey {
            case backupStart = "backup_start", backupEnd = "backup_end", filesUnmodified = "files_unmodified"
            case dataBlobs = "data_blobs", treeBlobs = "tree_blobs", dataAdded = "data_added", dataAddedPacked = "data_added_packed"
            case totalFiles = "total_files_processed", totalBytes = "total_bytes_processed"
        }

        func encode(to encoder: any Encoder) throws {
            try summary.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            let s = summary
            if let start = ZonedTimestamp(rfc3339: time) {
                // Nanoseconds after the start's whole second (a duration is never negative).
                let after = Int64(start.instant.nanoseconds) + Int64((s.durationSeconds * 1e9).rounded())
                let end = Timestamp(seconds: start.instant.seconds + after / 1_000_000_000, nanoseconds: UInt32(after % 1_000_000_000))
                try c.encode(time, forKey: .backupStart)
                try c.encode(RFC3339.format(end, utcOffset: start.utcOffset), forKey: .backupEnd)
            }
            try c.encode(s.filesUnchanged, forKey: .filesUnmodified)
            try c.encode(s.dataBlobsAdded, forKey: .dataBlobs)
            try c.encode(s.blobsAdded - s.dataBlobsAdded, forKey: .treeBlobs)
            try c.encode(s.bytesAdded, forKey: .dataAdded)
            try c.encode(s.bytesStored, forKey: .dataAddedPacked)
            try c.encode(s.filesNew + s.filesChanged + s.filesUnchanged, forKey: .totalFiles)
            try c.encode(s.bytesProcessed, forKey: .totalBytes)
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, shortID = "short_id", time, hostname, username, uid, gid, paths, tags, excludes, parent, original, tree, summary
        case importedFrom = "imported_from", programVersion = "program_version"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(shortID, forKey: .shortID); try c.encode(time, forKey: .time)
        try c.encode(hostname, forKey: .hostname); try c.encode(username, forKey: .username)
        try c.encode(uid, forKey: .uid); try c.encode(gid, forKey: .gid)
        try c.encode(paths, forKey: .paths); try c.encode(tags, forKey: .tags); try c.encode(excludes, forKey: .excludes)
        try c.encode(parent, forKey: .parent)  // null when absent, so the key is always there
        try c.encodeIfPresent(original, forKey: .original)
        try c.encodeIfPresent(importedFrom, forKey: .importedFrom)
        try c.encode(tree, forKey: .tree); try c.encodeIfPresent(summary, forKey: .summary)
        try c.encode(programVersion, forKey: .programVersion)
    }
}

/// `-H/--host`, `--path` and `--tag` filters, as restic's commands take them.
struct FilterOptions: ParsableArguments, SnapshotFiltering {
    @Option(name: [.customShort("H"), .customLong("host")], parsing: .unconditionalSingleValue, help: "Only snapshots of this host (repeatable).")
    var hosts: [String] = []
    @OptionGroup var pathsAndTags: PathTagFilterOptions

    func validate() throws { try InputValidation.hosts(hosts) }
}

/// `forget`'s filters: the same without `-H`, which restic's forget spends on `--keep-hourly`.
struct ForgetFilterOptions: ParsableArguments, SnapshotFiltering {
    @Option(name: .customLong("host"), parsing: .unconditionalSingleValue, help: "Only snapshots of this host (repeatable).")
    var hosts: [String] = []
    @OptionGroup var pathsAndTags: PathTagFilterOptions

    func validate() throws { try InputValidation.hosts(hosts) }
}

/// `--path` and `--tag`, shared by both.
struct PathTagFilterOptions: ParsableArguments {
    @Option(name: .customLong("path"), parsing: .unconditionalSingleValue, help: "Only snapshots that include this path (repeatable: all of them).")
    var paths: [String] = []
    @Option(name: .customLong("tag"), parsing: .unconditionalSingleValue, help: "Only snapshots with these tags (repeatable; a,b means both).")
    var tags: [String] = []
}

/// What the filter options give, whichever declares them.
protocol SnapshotFiltering {
    var hosts: [String] { get }
    var pathsAndTags: PathTagFilterOptions { get }
}

extension SnapshotFiltering {
    var paths: [String] { pathsAndTags.paths }
    var tags: [String] { pathsAndTags.tags }
    var snapshotFilter: SnapshotFilter { SnapshotFilter(hosts: hosts, paths: paths, tags: tags) }

    /// restic's way of choosing snapshots for tag, rewrite, stats, copy: every snapshot the
    /// filters match when none is named; otherwise the ones named (IDs, prefixes, `latest`),
    /// each once; a name that matches none is passed over with a warning. As in restic and
    /// `snap snapshots ID…`, the filters only choose which snapshot `latest` means: an ID
    /// named outright is taken whatever its host, tags or paths.
    func select(_ ids: [String], in repository: Repository, global: GlobalOptions) throws -> [SnapshotRecord] {
        let listed = try repository.backend.list(.snapshots)  // once, however many IDs
        guard !ids.isEmpty else {
            return try SnapshotStore.all(in: repository, listed: listed, skipped: global.snapshotSkipped)
                .filter { snapshotFilter.matches($0.snapshot) }
        }
        var seen = Set<SnapshotID>()
        return try ids.compactMap { try global.namedSnapshot($0, filter: snapshotFilter, in: repository, listed: listed) }
            .filter { seen.insert($0.id).inserted }
    }
}

/// Local-time display of timestamps.
enum LocalTime {
    static func display(_ t: Timestamp) -> String {
        let text = RFC3339.format(Timestamp(seconds: t.seconds, nanoseconds: 0), utcOffset: RFC3339.localOffset(at: t.seconds))
        return String(text.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }
}

/// Column-aligned text tables.
enum Table {
    static func print(_ rows: [[String]]) {
        guard let header = rows.first else { return }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        for (n, row) in rows.enumerated() {
            let line = row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
            Output.line(line)
            if n == 0 { Output.line(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))) }
        }
    }
}
