import ArgumentParser
import CPosix
import SnapEngine

@main
struct Snap: ParsableCommand {
    static func main() {
        Interruption.install()
        // glibc gives every thread its own malloc arena, which multiplies peak memory for
        // snap's few worker threads; two arenas keep contention low and memory small.
        _ = mallopt(M_ARENA_MAX, 2)
        // Buffers of 2 MiB and more (chunks, pack batches, reader buffers) get their own
        // mappings, returned at free. glibc's default threshold rises to the largest block
        // freed, after which such buffers fragment the arenas: a first backup of the Linux
        // tree peaked 3.5 to 4.5 MiB higher (docs/benchmarks/analysis.md).
        _ = mallopt(M_MMAP_THRESHOLD, 2 << 20)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "snap",
        abstract: "Deduplicating, encrypted, content-addressed backups.",
        discussion: """
        Exit codes: 0 success; 1 fatal error (nothing half-written is referenced); \
        3 backup saved but some files could not be read; 64 invalid command-line usage.
        Environment: SNAP_REPOSITORY, SNAP_REPOSITORY_FILE, SNAP_PASSWORD, SNAP_PASSWORD_FILE, SNAP_PASSWORD_COMMAND, \
        SNAP_MAX_KEY_MEMORY.
        """,
        version: snapVersion,
        subcommands: [InitCommand.self, BackupCommand.self, SnapshotsCommand.self, LsCommand.self,
                      RestoreCommand.self, ForgetCommand.self, PruneCommand.self, MirrorCommand.self, CheckCommand.self, RepairCommand.self,
                      CatCommand.self, UnlockCommand.self, BenchmarkCommand.self]
    )
}
