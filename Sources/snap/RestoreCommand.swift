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

    @Option(name: .shortAndLong, parsing: .unconditional, help: "Folder to restore into; files come back at their full paths below it.")
    var target: String

    @Option(parsing: .unconditional, help: "Restore the newest snapshot taken at or before this time (with --host/--path/--tag).")
    var at: String?

    @OptionGroup(title: "Include and exclude options") var include: IncludeOptions
    @OptionGroup(title: "Include and exclude options") var exclude: ExcludeOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("What to do with entries that exist in the target: always, if-changed (replace unless the "
        + "content is the snapshot's), if-newer (replace if the snapshot's is newer) or never.", valueName: "mode"))
    var overwrite = OverwriteMode.ifChanged

    @Flag(help: "Remove entries below the restored paths that the snapshot (with --include/--exclude) does not have.")
    var delete = false

    @Flag(help: "Accepted as restic's: snap always leaves runs of zeros unwritten (holes) where the file system allows.")
    var sparse = false

    @Flag(name: [.customLong("numeric-owner"), .customLong("numeric-ids")],
          help: "Set the stored user and group numbers, as restic does, not the numbers the stored names have on this host (for a restore from a rescue system).")
    var numericOwner = false

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
            let reference = try SnapshotReference.resolve([snapshot], at: at.flatMap(RFC3339.parse), filter: filter.snapshotFilter,
                                                          in: repository, skipped: global.snapshotSkipped) {
                try global.loadIndex(repository, listed: $0)
            }[0]
            let record = reference.record
            var options = RestoreOptions(target: target)
            let (included, excluded) = (try include.gather(), try exclude.gather())
            (options.include, options.exclude) = (included.rules, excluded.rules)
            options.overwrite = overwrite
            options.delete = delete
            options.numericOwners = numericOwner
            options.deleteWithin = Self.deleteScope(paths: record.snapshot.paths, subfolder: reference.subfolder)
            options.treeRoot = reference.subfolder
            options.dryRun = dryRun
            options.verify = verify && !dryRun
            if global.verbose && !global.quiet {
                let json = global.json
                options.report = { event in
                    let slash = event.isFolder ? "/" : ""
                    if json {
                        // Exact for UTF-8 names, control characters included (JSON escapes them).
                        Output.write(Self.verboseJSON(action: event.action.rawValue, item: PathBytes.jsonText(event.pathBytes) + slash, size: event.size))
                    } else {
                        Output.line("\(event.action.rawValue) \(event.path + slash)")
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
                let counts = RestoreStatusJSON(progress.snapshot, elapsed: Date().timeIntervalSince(started))
                try Output.jsonSummary(MergedJSON(first: counts, second: RestoreJSON(snapshot: record.id.hex, complete: result.succeeded, dryRun: dryRun,
                                            stopped: result.stopped?.description,
                                            files: result.files, directories: result.directories, otherEntries: result.otherEntries,
                                            bytes: result.bytes, updated: result.updated, unchanged: result.unchanged,
                                            skipped: result.skipped, deleted: result.deleted, verified: verify ? result.verified : nil,
                                            errors: result.errors, unwritten: result.unwritten, unreadableFolders: result.unreadableFolders,
                                            verifyFailures: result.verifyFailures,
                                            damaged: result.damagedBlobs.map { .init(blob: $0.blob.hex, reason: $0.reason, files: $0.files) })))
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
                    Output.line("restore incomplete: \(counts)\(removed)")
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
}
