import ArgumentParser
import CPosix
import SnapCrypto
import SnapCore
import SnapEngine
#if canImport(Glibc)
import Glibc
#endif

@main
struct Snap: ParsableCommand {
    static func main() {
        OpenSSLLibrary.keepUntilExit()
        Interruption.install()
        // glibc gives every thread its own malloc arena, which multiplies peak memory for
        // snap's few worker threads; two arenas keep contention low and memory small.
        _ = mallopt(M_ARENA_MAX, 2)
        // Buffers of 2 MiB and more (chunks, pack batches, reader buffers) get their own
        // mappings, returned at free. glibc's default threshold rises to the largest block
        // freed, after which such buffers fragment the arenas: a first backup of the Linux
        // tree peaked 3.5 to 4.5 MiB higher (docs/benchmarks/analysis.md).
        _ = mallopt(M_MMAP_THRESHOLD, 2 << 20)
        // SIGXFSZ would end snap without a word when a file reaches `ulimit -f` (a restore
        // leaving that file behind); ignored, the write fails with EFBIG, reported as any
        // other failed write.
        signal(SIGXFSZ, SIG_IGN)
        // The command runs on a thread with a large stack (`DedicatedThread.runWaiting`);
        // where none can be made, here.
        for size in [256 << 20, 32 << 20] where DedicatedThread.runWaiting(name: "snap", stackSize: size, { runCommand() }) { return }
        // snap needs threads (signals, lock refresh, workers); without any, commands that
        // wait on a worker would hang, so say so instead.
        guard DedicatedThread.start(name: "snap-probe", {}) else {
            Output.error("snap: the system refuses to start threads (a limit on processes or threads, ulimit -u, or on memory); raise it and run again")
            exit(withError: ExitCode(Exit.fatal))
        }
        runCommand()
    }

    /// Parses the command line and runs the command.
    private static func runCommand() {
        // Every way out but an interruption's `_exit` (help, errors, the end) passes here.
        atexit { Snap.finishLockRemovals() }
        var arguments = GlobalArguments.expandingVerbosity(Array(CommandLine.arguments.dropFirst()))
        switch GlobalArguments.reorder(arguments) {
        case let .arguments(reordered):
            arguments = reordered
        case let .refused(message):
            if wantsJSON(arguments) {
                Output.jsonError(ExitErrorJSON(code: 64, message: message))
            } else {
                Output.error(message)
            }
            Self.exit(withError: ExitCode(64))
        }
        do {
            var command = try parseAsRoot(arguments)
            let global = Mirror(reflecting: command).children.lazy.compactMap { ($0.value as? OptionGroup<GlobalOptions>)?.wrappedValue }.first
            Output.jsonErrors = global?.json == true
            sayOnSigbus(json: global?.json == true)
            defer { RequestReport.printLines(verbose: global?.verbose == true, json: global?.json == true) }
            if let combined = command as? CombinationValidating {
                do {
                    try combined.validateCombination()
                } catch let error as ValidationError {
                    reportUsageError(error, of: type(of: command))
                    throw ExitCode.validationFailure
                }
            }
            try command.run()
        } catch {
            if exitCode(for: error) == .success {
                // Help and --version: printed here so that help lists a command's own options first.
                let message = fullMessage(for: error)
                if !message.isEmpty { print(HelpLayout.ownOptionsFirst(message)) }
                Self.exit()
            }
            Interruption.yieldIfInterrupted()
            reportLostOutput()
            // Under --json, standard error holds only JSON (docs/json.md), usage errors too.
            let code = exitCode(for: error)
            if !(error is ExitCode), wantsJSON(arguments) {
                Output.jsonError(ExitErrorJSON(code: code.rawValue, message: message(for: error)))
                Self.exit(withError: ExitCode(code.rawValue))
            }
            exit(withError: error)
        }
        if reportLostOutput() { exit(withError: ExitCode(Exit.fatal)) }
    }

    /// Whether `--json` is among the options (before any `--`): errors are then JSON too.
    private static func wantsJSON(_ arguments: [String]) -> Bool {
        arguments.prefix(while: { $0 != "--" }).contains("--json")
    }

    /// The line a SIGBUS prints before snap exits with 135. The one file snap maps into memory
    /// is the cache's blob index table (docs/cache.md), which snap only ever replaces by
    /// renaming; another program that cuts it short in place under a running command makes
    /// the next access to the lost pages raise SIGBUS, which would otherwise end snap without
    /// a word. Nothing half-written is referenced (FORMAT.md, "Write order"); the command's
    /// lock stays until it goes stale.
    private static func sayOnSigbus(json: Bool) {
        let text = "the cache's blob index table was cut short by another program while this command read it (SIGBUS); "
            + "run the command again, which rebuilds the table; this command's lock may be left until it goes stale, "
            + "or 'snap unlock' on this host removes it"
        let line = (json ? Output.jsonText(ExitErrorJSON(code: 128 + SIGBUS, message: text)) : "snap: " + text) + "\n"
        _ = cposix_say_on_sigbus(line)
    }

    /// At the process's end, after the command printed its result: waits a while for lock
    /// removals still under way (a storage that stopped answering; `RepositoryLock.release`
    /// waited only `LockTiming.releaseWait`), and says which locks may be left. The command's
    /// result stands, but other commands may see such a lock until it goes stale.
    /// An interruption meanwhile ends the wait; its own cleanup then says what is left.
    static func finishLockRemovals() {
        Interruption.commandEnded()
        let left = RepositoryLock.finishRemovals(within: LockTiming.removalWaitAtExit) { !Interruption.isFinishing }
        Interruption.yieldIfInterrupted()
        for lock in left {
            Output.error("snap: warning: the storage did not answer in time while this command removed its lock \(lock.prefix(8)), "
                         + "so it may be left in locks/; other commands pass over it once it is stale, "
                         + "or 'snap unlock' on this host removes it now")
        }
    }

    /// Says in one line when standard output could not be written (a full disk, a closed
    /// pipe): what the command printed is lost, although what it did is done. Returns
    /// whether it did, so that a command that succeeded otherwise exits with 1.
    @discardableResult
    private static func reportLostOutput() -> Bool {
        guard let failure = StandardStreams.outputFailure else { return false }
        Output.error("snap: cannot write to standard output: \(failure); the command itself ran to its end")
        return true
    }

    /// Prints a usage error as ArgumentParser prints its own: the message, the command's usage
    /// and where its help is.
    private static func reportUsageError(_ error: ValidationError, of command: ParsableCommand.Type) {
        let name = ["snap", command.configuration.commandName].compactMap { $0 }.joined(separator: " ")
        Output.error("Error: \(error.message)")
        Output.error("Usage: " + usageString(for: command))
        Output.error("  See '\(name) --help' for more information.")
    }

    static let configuration = CommandConfiguration(
        commandName: "snap",
        abstract: "Deduplicating, encrypted, content-addressed backups.",
        discussion: """
        Global options, before or after the command (see any command's --help): -r/--repo, \
        --repo-file, --mirror-policy, --password-file, --password-command, --password-command-timeout, \
        --key-hint, --max-key-memory, --json, -q/--quiet, -v/--verbose, --connections, --stuck-request-timeout, --cache-dir, --no-cache, \
        --retry-lock, --no-lock, --cleanup-cache, --limit-upload, --limit-download, --cacert, --tls-client-cert, --insecure-tls, \
        --s3-object-lock-days, --s3-object-lock-mode, --s3-storage-class, -o/--option.
        Exit codes: 0 success; 1 fatal error (nothing half-written is referenced); \
        3 backup saved but some files could not be read; 10 no repository at the location; \
        11 a lock could not be taken; 12 wrong password; 64 invalid command-line usage; \
        130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
        Environment: SNAP_REPOSITORY, SNAP_REPOSITORY_FILE, SNAP_PASSWORD, SNAP_PASSWORD_FILE, SNAP_PASSWORD_COMMAND, \
        SNAP_MAX_KEY_MEMORY, SNAP_KEY_HINT, SNAP_CACHE_DIR, SNAP_CACERT, SNAP_TLS_CLIENT_CERT; for copy: SNAP_FROM_REPOSITORY, SNAP_FROM_REPOSITORY_FILE, SNAP_FROM_PASSWORD_FILE, SNAP_FROM_PASSWORD_COMMAND, SNAP_FROM_PASSWORD.
        """,
        version: snapVersion,
        subcommands: [InitCommand.self, BackupCommand.self, SnapshotsCommand.self, LsCommand.self,
                      RestoreCommand.self, ForgetCommand.self, PruneCommand.self, MirrorCommand.self, CheckCommand.self, RepairCommand.self,
                      RecoverCommand.self, CatCommand.self, CopyCommand.self, DiffCommand.self, DumpCommand.self, MountCommand.self, FindCommand.self, TagCommand.self, RewriteCommand.self, StatsCommand.self, KeyCommand.self, ListCommand.self, CacheCommand.self, UnlockCommand.self, VersionCommand.self, GenerateCommand.self, BenchmarkCommand.self, IndexBenchmarkCommand.self]
    )
}

/// Checks of how a command's options combine, run once parsing has succeeded.
///
/// ArgumentParser calls `validate()` before it looks for unknown options, so a check there
/// that fails when options are absent hides the real mistake: `snap forget
/// --unsafe-allow-remove-all --bogus` would name the missing filter instead of "Unknown
/// option '--bogus'". A `ValidationError`
/// thrown here is reported with the command's usage and exit 64, like one from `validate()`.
protocol CombinationValidating {
    func validateCombination() throws
}
