import ArgumentParser
import Foundation
import SnapEngine

struct RewriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrite", abstract: "Remove files from snapshots: new snapshots without what the patterns match.",
        discussion: """
        Like restic 0.17's rewrite: snapshots with matches get a new snapshot (with 'original' \
        naming the first of the line); the old ones stay unless --forget. Data is left for prune.
        """)

    @Argument(help: "Snapshots (IDs, prefixes, 'latest'); all matching the filters if none.")
    var ids: [String] = []

    @OptionGroup(title: "Exclude options") var exclude: ExcludeOptions

    @Flag(help: "Delete each original once its replacement is written.")
    var forget = false

    @Flag(name: .customLong("dry-run"), help: "Only report what would be removed.")
    var dryRun = false

    @OptionGroup var filter: FilterOptions

    @OptionGroup(title: "Global options") var global: GlobalOptions

    func validate() throws {
        guard !exclude.isEmpty else { throw ValidationError("give --exclude, --iexclude, --exclude-file or --iexclude-file") }
    }

    func run() throws {
        try reportingErrors {
            let patterns = try exclude.gather()
            let repository = try global.openRepository()
            let records = try filter.select(ids, in: repository, global: global)
            let rewriter = try SnapshotRewriter(repository: repository, exclude: patterns.rules, hostname: Identity.hostname, dryRun: dryRun)
            let results = try rewriter.rewrite(records, forget: forget) { id, error in
                Output.error("warning: index \(id.short) skipped: \(error)")
            }
            patterns.warn(rewriter.unmatchedPatterns)
            if global.json {
                try Output.json(results.map { r in
                    ["original": r.original.hex, "replacement": r.replacement?.hex ?? "", "removed_entries": String(r.removedEntries),
                     "removed_bytes": String(r.removedBytes)]
                })
                return
            }
            guard !global.quiet else { return }
            for r in results {
                let what = "\(r.removedEntries) entries (\(Output.bytes(r.removedBytes)))"
                if let new = r.replacement {
                    Output.line("snapshot \(r.original.short): removed \(what), saved as \(new.short)\(forget ? "; original deleted" : "")")
                } else {
                    Output.line("snapshot \(r.original.short): would remove \(what)")
                }
            }
            Output.line("\(results.count) snapshot\(results.count == 1 ? "" : "s") \(dryRun ? "would be " : "")rewritten; run 'snap prune' to free the data")
        }
    }
}
