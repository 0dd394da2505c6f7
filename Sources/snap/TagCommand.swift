import ArgumentParser
import SnapEngine

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag", abstract: "Change the tags of snapshots (all matching the filters, or those named).",
        discussion: """
        --set replaces the tags, then --add and --remove apply; values may be comma-separated. A \
        changed snapshot gets a new ID (its file is named by its content) and records the first \
        ID in 'original'; the old file is removed after the new one is written.
        """)

    @Argument(help: "Snapshots to change (IDs, prefixes, 'latest'); all matching the filters if none.")
    var ids: [String] = []

    @Option(parsing: .unconditionalSingleValue, help: "Replace the tags with these (repeatable).")
    var set: [String] = []

    @Option(parsing: .unconditionalSingleValue, help: "Add these tags (repeatable).")
    var add: [String] = []

    @Option(parsing: .unconditionalSingleValue, help: "Remove these tags (repeatable).")
    var remove: [String] = []

    @OptionGroup var filter: FilterOptions

    @OptionGroup(title: "Global options") var global: GlobalOptions

    private static func split(_ values: [String]) -> [String] {
        TagList.parse(values)
    }

    func validate() throws {
        guard !set.isEmpty || !add.isEmpty || !remove.isEmpty else { throw ValidationError("give --set, --add or --remove") }
        guard set.isEmpty || (add.isEmpty && remove.isEmpty) else {
            throw ValidationError("--set replaces all tags; it cannot be combined with --add or --remove")
        }
    }

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            let records = try filter.select(ids, in: repository, global: global)
            let change = TagChange(set: set.isEmpty ? nil : Self.split(set), add: Self.split(add), remove: Self.split(remove))
            let changed = try SnapshotTagger(repository: repository, hostname: Identity.hostname).retag(records, change)
            if global.json {
                try Output.json(changed.map { ["old": $0.old.hex, "new": $0.new.hex] })
                return
            }
            guard !global.quiet else { return }
            for (old, new) in changed { Output.line("snapshot \(old.short) → \(new.short)") }
            Output.line("modified tags on \(changed.count) snapshot\(changed.count == 1 ? "" : "s")")
        }
    }
}
