import ArgumentParser
import Foundation
import SnapCore
import SnapEngine

extension OverwriteMode: ExpressibleByArgument {}

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

    @Option(help: ArgumentHelp("What to do with entries that exist in the target: always, if-changed (replace unless the "
        + "content is the snapshot's), if-newer (replace if the snapshot's is newer) or never.", valueName: "mode"))
    var overwrite = OverwriteMode.ifChanged

    @Flag(help: "Remove entries below the restored paths that the snapshot (with --include/--exclude) does not have.")
    var delete = false

    @Flag(help: "Write nothing; count what would be restored, updated and deleted (list it with -v).")
    var dryRun = false

    @Flag(help: "Read every file written back and compare it with the snapshot; a difference is an error.")
    var verify = false

    func validate() throws {
        if at != nil && snapshot != "latest" && !snapshot.hasPrefix("latest:") {
            throw ValidationError("give either a snapshot ID or --at, not both")
        }
        try InputValidation.time(at, option: "--at")
        if target.isEmpty { throw ValidationError("--target must not be empty") }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isFolder) && !isFolder.boolValue {
            throw ValidationError("--target \(target) exists and is not a folder")
        }
    }

    /// Where `--delete` may remove entries, in the restored tree's paths: below the
    /// snapshot's backed-up paths, so that what lies beside them in the folders leading to
    /// them (which the snapshot holds only as a way down) is left alone.
    static func deleteScope(paths: [String], subfolder: [UInt8]) -> [String] {
        guard !subfolder.isEmpty else { return paths }
        let folder = String(decoding: subfolder, as: UTF8.self)
        var scope: [String] = []
        for path in paths {
            // The subfolder is a backed-up path or lies inside one: all of it.
            if path == folder || folder.hasPrefix(path == "/" ? "/" : path + "/") { return ["/"] }
            // A backed-up path inside the subfolder.
            if path.hasPrefix(folder + "/") { scope.append(String(path.dropFirst(folder.count))) }
        }
        return scope
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
            options.overwrite = overwrite
            options.delete = delete
            options.deleteWithin = Self.deleteScope(paths: record.snapshot.paths, subfolder: reference.subfolder)
            options.dryRun = dryRun
            options.verify = verify && !dryRun
            if global.verbose && !global.quiet {
                let json = global.json
                options.report = { event in
                    let item = event.path + (event.isFolder ? "/" : "")
                    if json {
                        try? Output.jsonLine(RestoreVerboseJSON(action: event.action.rawValue, item: item, size: event.size))
                    } else {
                        Output.line("\(event.action.rawValue) \(item)")
                    }
                }
            }
            let progress = RestoreProgress()
            options.progress = progress
            let started = Date()
            if !global.quiet && !global.json {
                if dryRun { Output.line("dry run: nothing is written") }
                Output.line("restoring snapshot \(record.id.short) of \(record.snapshot.paths.joined(separator: " ")) at \(record.snapshot.time) to \(target)")
            }
            Interruption.setOutcome("restore incomplete: files being written when it stopped may be partial; run the restore again")
            let line = StatusLine.start(global: global, text: { Self.statusText(progress.snapshot, elapsed: $0) },
                                        json: { Output.jsonText(RestoreStatusJSON(progress.snapshot, elapsed: $0)) })
            let restored = Result {
                try Restorer(repository: repository, tree: reference.tree, options: options) { message in
                    Output.error("error: \(message)")
                }.run()
            }
            line?.stop()
            let result = try restored.get()
            if global.json {
                try Output.jsonSummary(RestoreJSON(counts: RestoreStatusJSON(progress.snapshot, elapsed: Date().timeIntervalSince(started)),
                                            snapshot: record.id.hex, complete: result.succeeded, dryRun: dryRun,
                                            stopped: result.stopped?.description,
                                            files: result.files, directories: result.directories, otherEntries: result.otherEntries,
                                            bytes: result.bytes, updated: result.updated, unchanged: result.unchanged,
                                            skipped: result.skipped, deleted: result.deleted, verified: verify ? result.verified : nil,
                                            errors: result.errors, unwritten: result.unwritten, unreadableFolders: result.unreadableFolders,
                                            verifyFailures: result.verifyFailures,
                                            damaged: result.damagedBlobs.map { .init(blob: $0.blob.hex, reason: $0.reason, files: $0.files) }))
            } else if !global.quiet {
                var counts = "\(result.files) files, \(result.directories) folders, \(result.otherEntries) other entries, \(Output.bytes(result.bytes))"
                counts += "; \(result.updated) updated, \(result.unchanged) unchanged, \(result.skipped) skipped"
                if delete { counts += ", \(result.deleted) deleted" }
                if verify && !dryRun { counts += "; \(result.verified) files verified" }
                if dryRun {
                    Output.line("would restore \(counts)")
                } else if result.succeeded {
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
        if !result.verifyFailures.isEmpty {
            parts.append("\(result.verifyFailures.count) files differ from the snapshot when read back")
        }
        return "restore incomplete: " + (parts + repository).joined(separator: ", ") + " (named above)"
    }

    static func statusText(_ c: RestoreProgress.Counts, elapsed: Double) -> String {
        var text = "[\(Output.duration(elapsed))] \(c.filesRestored + c.filesSkipped)/\(c.totalFiles) files, \(Output.bytes(c.bytesRestored + c.bytesSkipped))/\(Output.bytes(c.totalBytes))"
        if c.totalBytes > 0 { text += " \(min(100, Int(Double(c.bytesRestored + c.bytesSkipped) * 100 / Double(c.totalBytes))))%" }
        if elapsed > 0 { text += ", \(Output.bytes(UInt64(Double(c.bytesRestored) / elapsed)))/s" }
        if c.filesDeleted > 0 { text += ", \(c.filesDeleted) deleted" }
        return text
    }

    /// restic's restore `status` message; its fields also open the `summary` (docs/json.md).
    struct RestoreStatusJSON: Encodable {
        let messageType = "status"
        let secondsElapsed: Int
        let percentDone: Double
        let totalFiles: Int
        let filesRestored: Int
        let filesSkipped: Int
        let filesDeleted: Int
        let totalBytes: UInt64
        let bytesRestored: UInt64
        let bytesSkipped: UInt64

        init(_ c: RestoreProgress.Counts, elapsed: Double) {
            secondsElapsed = Int(elapsed)
            percentDone = c.totalBytes > 0 ? min(1, Double(c.bytesRestored + c.bytesSkipped) / Double(c.totalBytes))
                : c.totalFiles > 0 ? min(1, Double(c.filesRestored + c.filesSkipped) / Double(c.totalFiles)) : 0
            (totalFiles, filesRestored, filesSkipped, filesDeleted) = (c.totalFiles, c.filesRestored, c.filesSkipped, c.filesDeleted)
            (totalBytes, bytesRestored, bytesSkipped) = (c.totalBytes, c.bytesRestored, c.bytesSkipped)
        }

        enum CodingKeys: String, CodingKey {
            case messageType = "message_type", secondsElapsed = "seconds_elapsed", percentDone = "percent_done"
            case totalFiles = "total_files", filesRestored = "files_restored", filesSkipped = "files_skipped"
            case filesDeleted = "files_deleted", totalBytes = "total_bytes", bytesRestored = "bytes_restored", bytesSkipped = "bytes_skipped"
        }
    }

    struct RestoreVerboseJSON: Encodable {
        let messageType = "verbose_status"
        let action: String
        let item: String
        let size: UInt64
        enum CodingKeys: String, CodingKey { case messageType = "message_type", action, item, size }
    }

    /// The `summary`: restic's counts (`RestoreStatusJSON`'s, but `message_type`), then snap's own.
    struct RestoreJSON: Encodable {
        struct Damaged: Encodable { let blob: String; let reason: String; let files: [String] }
        let counts: RestoreStatusJSON
        let snapshot: String
        let complete: Bool
        let dryRun: Bool
        /// Why the restore stopped early (the target cannot take more), or nil.
        let stopped: String?
        let files: Int
        let directories: Int
        let otherEntries: Int
        let bytes: UInt64
        /// Of `files` and `otherEntries`, those that replaced an existing entry.
        let updated: Int
        /// Existing entries that already had the snapshot's content (metadata set).
        let unchanged: Int
        /// Existing entries left alone because of --overwrite.
        let skipped: Int
        let deleted: Int
        /// Files read back with --verify; absent without it.
        let verified: Int?
        /// Entries that could not be created or given their metadata in the target.
        let errors: [String]
        /// Files that could not be written completely to the target, and were removed.
        let unwritten: [String]
        let unreadableFolders: [String]
        /// Files that differ from the snapshot when read back (--verify).
        let verifyFailures: [String]
        let damaged: [Damaged]

        func encode(to encoder: any Encoder) throws {
            try counts.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(snapshot, forKey: .snapshot)
            try c.encode(complete, forKey: .complete)
            try c.encode(dryRun, forKey: .dryRun)
            try c.encodeIfPresent(stopped, forKey: .stopped)
            try c.encode(files, forKey: .files)
            try c.encode(directories, forKey: .directories)
            try c.encode(otherEntries, forKey: .otherEntries)
            try c.encode(bytes, forKey: .bytes)
            try c.encode(updated, forKey: .updated)
            try c.encode(unchanged, forKey: .unchanged)
            try c.encode(skipped, forKey: .skipped)
            try c.encode(deleted, forKey: .deleted)
            try c.encodeIfPresent(verified, forKey: .verified)
            try c.encode(errors, forKey: .errors)
            try c.encode(unwritten, forKey: .unwritten)
            try c.encode(unreadableFolders, forKey: .unreadableFolders)
            try c.encode(verifyFailures, forKey: .verifyFailures)
            try c.encode(damaged, forKey: .damaged)
        }

        enum CodingKeys: String, CodingKey {
            case snapshot, complete, stopped, files, directories, bytes, errors, unwritten
            case dryRun = "dry_run"
            case otherEntries = "other_entries"
            case updated, unchanged, skipped, deleted, verified
            case unreadableFolders = "unreadable_folders"
            case verifyFailures = "verify_failures"
            case damaged
        }
    }
}
