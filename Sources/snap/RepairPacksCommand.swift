import ArgumentParser
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage

/// `snap repair packs ID…`: restic's command of that name, done by prune's machinery (a
/// repack that never blocks backups), so the damaged packs go the way every repacked pack does.
struct RepairPacksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packs", abstract: "Copy what still reads out of damaged packs into new packs, and delete them.",
        discussion: """
        For packs that 'snap check' names as damaged (a header that does not read, bytes appended, a pack cut short, \
        blobs that fail authentication): every blob of them that snapshots use and that still decodes intact is copied \
        into a new pack, and the packs are deleted as prune deletes packs (later, while backups that may use them run). \
        Damaged blobs cannot be copied and are named; while snapshots use them the pack is kept: run \
        'snap repair snapshots --read-data --forget' for those, then this command again. Other packs are left alone.
        """)

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Argument(help: "The packs to rewrite: IDs or unique prefixes, as 'snap check' names them.")
    var packs: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Only report what would be done.")
    var dryRun = false

    func validate() throws {
        guard !packs.isEmpty else { throw ValidationError("name the packs to rewrite (IDs or prefixes, as 'snap check' names them)") }
    }

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository(cache: false)
            let stored = try repository.backend.list(.data).compactMap { PackID(hex: $0.file.name) }
            let chosen = Set(try packs.map { reference in
                try IDPrefix.resolve(reference.replacingOccurrences(of: "data/", with: ""), in: stored, what: "pack",
                                     notFound: "there is no pack \(reference) in data/",
                                     ambiguous: { "'\(reference)' matches \($0) packs; give more digits" })
            })
            var options = PruneOptions(hostname: Identity.hostname)
            options.rewrite = chosen
            options.rewriteOnly = true
            options.dryRun = dryRun
            let result = try prune(repository: repository, global: global, options: options, messagesAreWarnings: true)
            if global.json { try Output.jsonSummary(result); return }
            guard !global.quiet else { return }
            let verb = dryRun ? "would rewrite" : "rewrote"
            Output.line("\(verb) \(counted(chosen.count - result.packsNotRewritten.count, "pack")), copying \(counted(result.blobsRepacked - result.blobsDamaged, "blob"))"
                        + (result.blobsDamaged > 0 ? "; \(counted(result.blobsDamaged, "damaged blob")) could not be copied" : ""))
            guard !dryRun else { return }
            Output.line(PruneCommand.deletionLine(result))
            let left = Set(try repository.backend.list(.data).compactMap { PackID(hex: $0.file.name) })
                .intersection(chosen).subtracting(result.packsNotRewritten)
            for id in left.sorted() {
                Output.line(result.packsDeferred > 0 && result.packsResurrected == 0
                    ? "pack \(id.short) waits for running backups; a later 'snap prune' deletes it"
                    : "pack \(id.short) is kept: snapshots use damaged blobs in it; run 'snap repair snapshots --read-data --forget', "
                        + "then 'snap repair packs \(id.short)' again")
            }
        }
    }
}
