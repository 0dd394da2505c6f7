import ArgumentParser
import SnapEngine

struct UnlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Remove locks of snap processes that are gone.",
        discussion: """
        Without options, removes only locks that are stale: written on this host by a process that \
        no longer exists, or not refreshed for 95 minutes. --remove-all also removes live locks and \
        files in locks/ that cannot be read; use it only when no snap command runs on any host. \
        Deletion marks that can be read are always kept.
        """)

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Flag(name: .customLong("remove-all"), help: "Remove every lock and unreadable file in locks/, not only stale ones.")
    var removeAll = false

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            let result = try Coordination.unlock(repository, removeAll: removeAll, hostname: Identity.hostname)
            if global.json { try Output.json(result); return }
            guard !global.quiet else { return }
            Output.line("removed \(result.locksRemoved) locks" + (removeAll ? " and \(result.unreadableRemoved) unreadable files" : ""))
            for lock in result.kept {
                Output.line("kept the \(lock.kind) lock of host \(lock.hostname), pid \(lock.pid), refreshed \(lock.minutesSinceRefresh) min ago "
                            + "by its clock: it may be running (stale after 95 min without a refresh)")
            }
            // Other commands, which measure the storage's clock, pass over such a lock after 35 minutes.
            if result.locksKept > 0 { Output.line("--remove-all removes these too; use it only when no snap command runs on any host") }
        }
    }
}
