import ArgumentParser
import SnapCore
import SnapEngine

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Restore a snapshot, or the state at a point in time, into a folder.")

    @OptionGroup(title: "Global options") var global: GlobalOptions
    @OptionGroup var filter: FilterOptions

    @Argument(help: "Snapshot ID, unique ID prefix, or 'latest'.")
    var snapshot = "latest"

    @Option(name: .shortAndLong, help: "Folder to restore into; files come back at their full paths below it.")
    var target: String

    @Option(help: "Restore the newest snapshot taken at or before this time (with --host/--path/--tag).")
    var at: String?

    @OptionGroup(title: "Include and exclude options") var include: IncludeOptions
    @OptionGroup(title: "Include and exclude options") var exclude: ExcludeOptions

    func validate() throws {
        if at != nil && snapshot != "latest" && !snapshot.hasPrefix("latest:") {
            throw ValidationError("give either a snapshot ID or --at, not both")
        }
        try InputValidation.time(at, option: "--at")
        if target.isEmpty { throw ValidationError("--target must not be empty") }
    }

    func run() throws {
        var incomplete = false
        try reportingErrors {
            let repository = try global.openRepository()
            try global.loadIndex(repository)
            let reference = try SnapshotReference(snapshot, at: at.flatMap(RFC3339.parse), filter: filter.snapshotFilter,
                                                  in: repository, skipped: global.snapshotSkipped)
            let record = reference.record
            var options = RestoreOptions(target: target)
            let (included, excluded) = (try include.gather(), try exclude.gather())
            (options.include, options.exclude) = (included.rules, excluded.rules)
            if !global.quiet && !global.json {
                Output.line("restoring snapshot \(record.id.short) of \(record.snapshot.paths.joined(separator: " ")) at \(record.snapshot.time) to \(target)")
            }
            Interruption.setOutcome("restore incomplete: files being written when it stopped may be partial; run the restore again")
            let result = try Restorer(repository: repository, tree: reference.tree, options: options) { message in
                Output.error("error: \(message)")
            }.run()
            if global.json {
                try Output.json(RestoreJSON(snapshot: record.id.hex, complete: result.succeeded, stopped: result.stopped?.description,
                                            files: result.files, directories: result.directories, bytes: result.bytes,
                                            errors: result.errors, unwritten: result.unwritten, unreadableFolders: result.unreadableFolders,
                                            damaged: result.damagedBlobs.map { .init(blob: $0.blob.hex, reason: $0.reason, files: $0.files) }))
            } else if !global.quiet {
                let counts = "\(result.files) files, \(result.directories) folders, \(result.otherEntries) other entries, \(Output.bytes(result.bytes))"
                if result.succeeded {
                    Output.line("restored \(counts)")
                } else {
                    let removed = result.unwritten.isEmpty ? "" : "; \(result.unwritten.count) files not restored (none left partly written)"
                    Output.line("restore incomplete: \(counts) restored\(removed)")
                }
            }
            included.warn(result.unmatchedIncludes)
            excluded.warn(result.unmatchedExcludes)
            if !result.succeeded {
                Output.error("snap: \(Self.failureLine(result))")
                incomplete = true
            }
        }
        if incomplete { throw ExitCode(Exit.fatal) }
    }

    /// The one line that ends an incomplete restore, keeping the target's failures apart
    /// from damage in the repository.
    static func failureLine(_ result: RestoreResult) -> String {
        var repository: [String] = []
        if result.damagedFiles > 0 { repository.append("\(result.damagedFiles) files have damaged or missing data in the repository") }
        if !result.unreadableFolders.isEmpty {
            repository.append("\(result.unreadableFolders.count) folders could not be read from the repository")
        }
        if let stop = result.stopped {
            let tail = repository.isEmpty ? "nothing in the repository is damaged" : repository.joined(separator: ", ") + " (named above)"
            return "restore stopped: \(stop); \(tail)"
        }
        var parts: [String] = []
        if !result.unwritten.isEmpty { parts.append("\(result.unwritten.count) files could not be written to the target (none left partly written)") }
        if !result.errors.isEmpty { parts.append("\(result.errors.count) entries could not be created or given their metadata in the target") }
        return "restore incomplete: " + (parts + repository).joined(separator: ", ") + " (named above)"
    }

    struct RestoreJSON: Encodable {
        struct Damaged: Encodable { let blob: String; let reason: String; let files: [String] }
        let snapshot: String
        let complete: Bool
        /// Why the restore stopped early (the target cannot take more), or nil.
        let stopped: String?
        let files: Int
        let directories: Int
        let bytes: UInt64
        /// Entries that could not be created or given their metadata in the target.
        let errors: [String]
        /// Files that could not be written completely to the target, and were removed.
        let unwritten: [String]
        let unreadableFolders: [String]
        let damaged: [Damaged]

        enum CodingKeys: String, CodingKey {
            case snapshot, complete, stopped, files, directories, bytes, errors, unwritten
            case unreadableFolders = "unreadable_folders"
            case damaged
        }
    }
}
