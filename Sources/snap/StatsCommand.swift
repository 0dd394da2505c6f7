import ArgumentParser
import SnapEngine

extension StatsMode: ExpressibleByArgument {}

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Count files and bytes in snapshots, and what the repository stores.",
        discussion: """
        Modes (restic's): restore-size (default; entries and file sizes as restored, summed over the \
        snapshots), files-by-contents (distinct file contents), raw-data (distinct blobs, stored and \
        plaintext sizes), blobs-per-file (distinct blobs of distinct files). The repository's own \
        totals follow: packs, blobs, and the compression and deduplication ratios.
        """)

    @Argument(help: "Snapshots (IDs, prefixes, 'latest'); all matching the filters if none.")
    var ids: [String] = []

    @Option(parsing: .unconditional, help: "restore-size, files-by-contents, raw-data or blobs-per-file.")
    var mode: StatsMode = .restoreSize

    @OptionGroup var filter: FilterOptions

    @OptionGroup(title: "Global options") var global: GlobalOptions

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            let records = try filter.select(ids, in: repository, global: global)
            try global.loadIndex(repository)
            let collector = StatisticsCollector(repository: repository, mode: mode)
            for record in records { try collector.add(record.snapshot.tree) }
            let stats = collector.result
            let usage = try StatisticsCollector.usage(of: repository)
            // Deduplication: file bytes the snapshots would restore ÷ file bytes the repository keeps.
            let restored = mode == .restoreSize ? stats.totalSize : nil
            let dedup = restored.flatMap { usage.rawDataBytes > 0 ? Double($0) / Double(usage.rawDataBytes) : nil }
            if global.json {
                try Output.json(StatsJSON(stats: stats, repository: usage, deduplicationRatio: dedup))
                return
            }
            Output.line("Stats in \(mode.rawValue) mode:")
            Output.line("     Snapshots processed:  \(stats.snapshotsCount)")
            if let blobs = stats.totalBlobCount { Output.line("        Total Blob Count:  \(blobs)") }
            Output.line("        Total File Count:  \(stats.totalFileCount)")
            if let raw = stats.totalUncompressedSize { Output.line(" Total Uncompressed Size:  \(Output.bytes(raw))") }
            Output.line("              Total Size:  \(Output.bytes(stats.totalSize))")
            if let ratio = stats.compressionRatio { Output.line("       Compression Ratio:  \(String(format: "%.2f", ratio))x") }
            Output.line("")
            Output.line("Repository: \(usage.packs) packs, \(Output.bytes(usage.packBytes)) stored; \(usage.blobs) blobs, "
                + "\(Output.bytes(usage.rawBlobBytes)) before compression (\(String(format: "%.2f", usage.compressionRatio))x)")
            if let dedup { Output.line("Deduplication: the snapshots restore \(String(format: "%.2f", dedup))x the data the repository keeps") }
        }
    }

    struct StatsJSON: Encodable {
        let stats: SnapshotStatistics
        let repository: RepositoryUsage
        let deduplicationRatio: Double?

        func encode(to encoder: Encoder) throws {
            try stats.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(repository, forKey: .repository)
            try c.encodeIfPresent(deduplicationRatio, forKey: .deduplicationRatio)
        }
        enum Keys: String, CodingKey { case repository, deduplicationRatio = "deduplication_ratio" }
    }
}
