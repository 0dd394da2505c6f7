import ArgumentParser
import Foundation
import SnapCore
import SnapEngine

/// `snap recover`: restic's command of that name (`DanglingTreeRecovery` does the work).
struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover", abstract: "Save a snapshot of the folders the repository stores but no snapshot reaches.",
        discussion: """
        For a snapshot forgotten by mistake: until a prune deletes what it used, its folders are still stored. recover \
        finds every folder no snapshot reaches and saves one snapshot (path /recover) with a folder for each, named by \
        its tree's short ID; 'snap ls ID' shows them and 'snap restore ID:/recover/NAME --target DIR' brings one back. \
        Nothing is saved when every folder is in a snapshot.
        """)

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Flag(name: [.customShort("n"), .customLong("dry-run")], help: "Only report what would be recovered.")
    var dryRun = false

    /// `--json`'s document.
    private struct Report: Encodable {
        let danglingTrees: Int
        let roots: [String]
        let unreadableTrees: [String]
        let snapshotID: String?
        let runningBackups: Int
        let dryRun: Bool

        enum CodingKeys: String, CodingKey {
            case danglingTrees = "dangling_trees", roots, unreadableTrees = "unreadable_trees", snapshotID = "snapshot_id"
            case dryRun = "dry_run", runningBackups = "running_backups"
        }
    }

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            Interruption.setOutcome("recover stopped; nothing was saved")
            let recovery = DanglingTreeRecovery(repository: repository, hostname: Identity.hostname, username: Identity.username)
            let result = try recovery.run(dryRun: dryRun) { message in Output.error("warning: \(message)") }
            if global.json {
                try Output.json(Report(danglingTrees: result.danglingTrees, roots: result.roots.map(\.hex),
                                       unreadableTrees: result.unreadable.map(\.tree.hex), snapshotID: result.snapshot?.hex,
                                       runningBackups: result.otherWriters, dryRun: dryRun))
                return
            }
            guard !global.quiet else { return }
            guard !result.roots.isEmpty else {
                Output.line(result.danglingTrees == 0 ? "no lost folders: every folder stored is in a snapshot"
                                                      : "no lost folders could be read (\(result.danglingTrees) trees outside every snapshot)")
                return
            }
            Output.line("found \(counted(result.danglingTrees, "folder")) outside every snapshot, in \(counted(result.roots.count, "lost tree")):")
            for root in result.roots { Output.line("  \(root.short)") }
            if result.otherWriters > 0 {
                Output.line("note: \(counted(result.otherWriters, "backup")) running: the folders they have stored but not yet "
                            + "named in a snapshot are among these")
            }
            if let id = result.snapshot {
                if result.copiedFromCondemnedPacks > 0 {
                    Output.line("copied \(result.copiedFromCondemnedPacks) blobs out of packs a prune had condemned")
                }
                Output.line("saved snapshot \(id.short) with them under /recover; restore one with "
                            + "'snap restore \(id.short):/recover/NAME --target DIR'")
            } else {
                Output.line("would save a snapshot with them under /recover (dry run)")
            }
        }
    }
}
