import ArgumentParser
import Foundation
import SnapCore
import SnapEngine

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup", abstract: "Back up files and folders into a new snapshot.")

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Argument(help: "Files and folders to back up.")
    var paths: [String]

    @Option(name: .customLong("tag"), help: "Tag the snapshot (repeatable; commas separate several).")
    var tags: [String] = []

    @Option(help: "Host name recorded in the snapshot (default: this host's).")
    var host: String?

    @Option(help: "Snapshot time, RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]] local time (default: now).")
    var time: String?

    @OptionGroup(title: "Exclude options") var exclude: ExcludeOptions
    @OptionGroup(title: "Exclude options") var excludeMore: BackupExcludeOptions

    @Option(help: "Compare against this snapshot instead of the latest one with the same host and paths.")
    var parent: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("zstd level for this backup, negative for speed (default: the repository's).",
                                                        valueName: "level"),
            transform: InputValidation.compressionLevel)
    var compression: Int?

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one path to back up") }
        try InputValidation.time(time, option: "--time")
        if let host { try InputValidation.hosts([host]) }
    }

    func run() throws {
        var warned = false
        try reportingErrors {
            let repository = try global.openRepository()
            var options = BackupOptions(paths: paths, hostname: host ?? Identity.hostname, username: Identity.username)
            options.tags = tags.flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
            options.time = time.flatMap(RFC3339.parse)
            let patterns = try exclude.gather()
            options.exclusions = try excludeMore.exclusions()
            options.exclusions.patterns = patterns.rules
            options.compressionLevel = compression
            if let parent {
                options.parent = try SnapshotStore.find(parent, in: repository, skipped: global.snapshotSkipped).id
            }
            Interruption.setOutcome("nothing was saved: no snapshot was written (data already uploaded is reused by the next backup)")
            let progress = BackupProgress()
            let line = Output.stdoutIsTerminal && !global.quiet && !global.json ? StatusLine.backup(progress) : nil
            if line != nil {
                let (p, e) = (paths, options.exclusions)
                Thread.detachNewThread { Scanner.scan(paths: p, exclusions: e, into: progress) }
            }
            let result: BackupResult
            do {
                let archiver = Archiver(repository: repository, options: options, progress: progress) { message in
                    Output.error("warning: \(message)")
                }
                result = try archiver.run()
                // Its tables (an entry per multiply-linked file) take a tenth of a second to
                // free on a large tree, and the process ends right after: leave that to exit.
                _ = Unmanaged.passRetained(archiver)
            } catch {
                line?.stop()
                throw error
            }
            line?.stop()
            Interruption.setOutcome("snapshot \(result.id.short) was saved")
            warned = !result.warnings.isEmpty
            try printSummary(result)
            patterns.warn(result.unmatchedPatterns)
        }
        if warned { throw ExitCode(Exit.partial) }
    }

    private func printSummary(_ result: BackupResult) throws {
        let s = result.snapshot.summary ?? Snapshot.Summary()
        if global.json {
            try Output.json(BackupJSON(id: result.id.hex, shortID: result.id.short, summary: s, warnings: result.warnings))
            return
        }
        guard !global.quiet else { return }
        Output.line("Files:       \(s.filesNew) new, \(s.filesChanged) changed, \(s.filesUnchanged) unchanged")
        Output.line("Folders:     \(s.directories)")
        Output.line("Processed:   \(Output.bytes(s.bytesProcessed)) (read \(Output.bytes(s.bytesRead))) in \(Output.duration(s.durationSeconds))")
        Output.line("Added:       \(Output.bytes(s.bytesAdded)) in \(s.blobsAdded) blobs, \(Output.bytes(s.bytesStored)) stored")
        if !result.warnings.isEmpty {
            Output.line("Warnings:    \(result.warnings.count) entries could not be read (see above); they are not in the snapshot")
        }
        Output.line("snapshot \(result.id.short) saved")
    }

    struct BackupJSON: Encodable {
        let id: String
        let shortID: String
        let summary: Snapshot.Summary
        let warnings: [String]
        enum CodingKeys: String, CodingKey { case id, shortID = "short_id", summary, warnings }
    }
}
