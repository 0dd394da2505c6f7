import ArgumentParser
import Foundation
import SnapEngine

struct RewriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrite", abstract: "Remove files from snapshots, or change their host or time: new snapshots.",
        discussion: """
        Like restic 0.17's rewrite: snapshots with matches (or whose host or time --new-host or --new-time \
        changes) get a new snapshot (with 'original' naming the first of the line); the old ones stay unless \
        --forget. Data is left for prune.
        """)

    @Argument(help: "Snapshots (IDs, prefixes, 'latest'); all matching the filters if none.")
    var ids: [String] = []

    @OptionGroup(title: "Exclude options") var exclude: ExcludeOptions

    @Flag(help: "Delete each original once its replacement is written.")
    var forget = false

    @Flag(name: [.customShort("n"), .customLong("dry-run")], help: "Only report what would be removed or changed.")
    var dryRun = false

    @Option(name: .customLong("new-host"), parsing: .unconditional, help: "Give the rewritten snapshots this host name.")
    var newHost: String?

    @Option(name: .customLong("new-time"), parsing: .unconditional, help: ArgumentHelp(
        "Give the rewritten snapshots this time: RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]] local time.", valueName: "time"))
    var newTime: String?

    @OptionGroup var filter: FilterOptions

    @OptionGroup(title: "Global options") var global: GlobalOptions

    func validate() throws {
        guard !exclude.isEmpty || newHost != nil || newTime != nil else {
            throw ValidationError("nothing to rewrite: give --exclude, --iexclude, --exclude-file, --iexclude-file, --new-host or --new-time")
        }
        if let newHost, newHost.isEmpty { throw ValidationError("--new-host must not be empty") }
        try InputValidation.time(newTime, option: "--new-time")
    }

    func run() throws {
        try reportingErrors {
            let patterns = try exclude.gather()
            let repository = try global.openRepository()
            let records = try filter.select(ids, in: repository, global: global)
            let rewriter = try SnapshotRewriter(repository: repository, exclude: patterns.rules, hostname: Identity.hostname, dryRun: dryRun)
            rewriter.newHost = newHost
            rewriter.newTime = newTime.flatMap(RFC3339.parse)
            let results = try rewriter.rewrite(records, forget: forget) { id, error in
                Output.error("warning: index \(id.short) skipped: \(error)")
            }
            patterns.warn(rewriter.unmatchedPatterns)
            if global.json {
                try Output.json(results.map { r in
                    ["original": r.original.hex, "replacement": r.replacement?.hex ?? "", "removed_entries": String(r.removedEntries),
                     "removed_bytes": String(r.removedBytes), "metadata_changed": String(r.metadataChanged)]
                })
                return
            }
            guard !global.quiet else { return }
            for r in results {
                var what = "\(r.removedEntries) entries (\(Output.bytes(r.removedBytes)))"
                if r.metadataChanged { what += " and set " + [newHost.map { "host \($0)" }, newTime.map { "time \($0)" }].compactMap { $0 }.joined(separator: " and ") }
                if let new = r.replacement {
                    Output.line("snapshot \(r.original.short): removed \(what), saved as \(new.short)\(forget ? "; original deleted" : "")")
                } else {
                    Output.line("snapshot \(r.original.short): would remove \(what)")
                }
            }
            let freed = results.contains { $0.removedEntries > 0 } && !dryRun
            Output.line("\(results.count) snapshot\(results.count == 1 ? "" : "s") \(dryRun ? "would be " : "")rewritten"
                        + (freed ? "; run 'snap prune' to free the data" : ""))
        }
    }
}
