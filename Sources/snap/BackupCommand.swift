import ArgumentParser
import Foundation
import SnapCore
import SnapEngine

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup", abstract: "Back up files and folders into a new snapshot.")

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Argument(help: "Files and folders to back up (with --stdin-from-command: the command and its arguments, after --).")
    var paths: [String] = []

    @OptionGroup(title: "Inputs") var inputs: BackupInputOptions

    @Option(name: .customLong("tag"), parsing: .unconditionalSingleValue, help: "Tag the snapshot (repeatable; commas separate several).")
    var tags: [String] = []

    @Option(name: [.customShort("H"), .long, .customLong("hostname")], parsing: .unconditional,
            help: "Host name recorded in the snapshot (default: this host's; --hostname is restic 0.14's older name).")
    var host: String?

    @Option(parsing: .unconditional, help: "Snapshot time, RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]] local time (default: now).")
    var time: String?

    @OptionGroup(title: "Exclude options") var exclude: ExcludeOptions
    @OptionGroup(title: "Exclude options") var excludeMore: BackupExcludeOptions

    @Option(parsing: .unconditional, help: "Compare against this snapshot instead of the latest one of the same group (--group-by).")
    var parent: String?

    @Option(name: .customLong("group-by"), parsing: .unconditional, help: ArgumentHelp("Which earlier snapshot is the parent: the latest with the same host, paths and/or tags (default: host,paths).", valueName: "group"),
            transform: ForgetCommand.grouping)
    var groupBy: SnapshotGrouping?

    @Flag(name: [.customShort("n"), .customLong("dry-run")], help: "Read and chunk everything and report what would be added, but write nothing.")
    var dryRun = false

    @Flag(help: "Save no snapshot when nothing changed since the parent.")
    var skipIfUnchanged = false

    @Flag(name: .shortAndLong, help: "Read every file, even those the parent snapshot says are unchanged.")
    var force = false

    @Flag(name: .customLong("no-scan"), help: "Do not count the files first for the progress line's estimate of what is left.")
    var noScan = false

    @Flag(help: "Leave the inode number, and the ctime, out of change detection (for file systems without stable inodes: FUSE, NFS).")
    var ignoreInode = false

    @Flag(help: "Leave the status-change time (ctime) out of change detection.")
    var ignoreCtime = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Files read at once, at most \(BackupOptions.maximumReaders) (default: the usable cores plus one).", valueName: "n"))
    var readConcurrency: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "zstd level for this backup, negative for speed, or restic's auto (the repository's, the default), max (11), off (1).",
        valueName: "level"), transform: InputValidation.compression)
    var compression: InputValidation.CompressionChoice?

    func validate() throws {
        try inputs.validate(paths: paths)
        if inputs.stdin || inputs.stdinTar && !inputs.stdinFromCommand {
            // One stream cannot be both the data and a list: the list's read would take it all.
            for (option, file) in exclude.excludeFiles.map({ ("--exclude-file", $0) }) + exclude.insensitiveExcludeFiles.map({ ("--iexclude-file", $0) })
                where StandardStreams.isStandardInput(file) {
                throw ValidationError("\(option) \(file) is standard input, which --stdin backs up: give the patterns in a file or with --exclude")
            }
        }
        if let readConcurrency, !(1...BackupOptions.maximumReaders).contains(readConcurrency) {
            throw ValidationError("--read-concurrency must be from 1 to \(BackupOptions.maximumReaders)")
        }
        try InputValidation.time(time, option: "--time")
        if let host { try InputValidation.hosts([host]) }
        if inputs.stdinTar { try validateTarImport() }
    }

    func run() throws {
        var warned = false
        try reportingErrors {
            let sources = try inputs.sources(paths: paths)
            if sources.tar {
                warned = try importTar(sources)
                return
            }
            let repository = try global.openRepository()
            var options = BackupOptions(paths: sources.paths, hostname: host ?? Identity.hostname, username: Identity.username)
            let command = try sources.command.map(StreamCommand.init)
            if let stream = sources.stream {
                options.stream = StreamSource(path: stream, fd: command?.fd ?? STDIN_FILENO, finished: { try command?.finish() })
            }
            options.dryRun = dryRun
            options.skipIfUnchanged = skipIfUnchanged
            options.force = force
            options.ignoreInode = ignoreInode
            // As restic's: --ignore-inode implies --ignore-ctime, since the file systems whose
            // inodes change between mounts (FUSE, network ones) change ctimes with them.
            options.ignoreCtime = ignoreCtime || ignoreInode
            if let groupBy { options.groupBy = groupBy }
            if let readConcurrency { options.readers = readConcurrency }
            options.tags = TagList.parse(tags)
            options.time = time.flatMap(RFC3339.parse)
            let patterns = try exclude.gather()
            options.exclusions = try excludeMore.exclusions()
            options.exclusions.patterns = patterns.rules
            options.compressionLevel = compression?.level
            options.stopRequested = { Interruption.isFinishing }
            if let parent {
                options.parent = try SnapshotStore.find(parent, in: repository, skipped: global.snapshotSkipped).id
            }
            Interruption.setOutcome("nothing was saved: no snapshot was written (data already uploaded is reused by the next backup)")
            let report = BackupReport(global: global)
            if report.showsProgress && options.stream == nil && !noScan {
                let (p, e, progress) = (options.paths, options.exclusions, report.progress)
                Thread.detachNewThread { Scanner.scan(paths: p, exclusions: e, into: progress) }
            }
            report.start()
            let result: BackupResult
            do {
                let archiver = Archiver(repository: repository, options: options, progress: report.progress,
                                        warn: { report.message($0) }, warnItem: { report.warn($0) },
                                        saved: { Interruption.setResult("snapshot \($0.short) was saved") })
                result = try archiver.run()
                // Its tables (an entry per multiply-linked file) take a tenth of a second to
                // free on a large tree, and the process ends right after: leave that to exit.
                _ = Unmanaged.passRetained(archiver)
            } catch {
                report.stop()
                throw error
            }
            report.stop()
            Interruption.setResult(result.state == .saved ? "snapshot \(result.id.short) was saved" : "no snapshot was saved")
            warned = !result.warnings.isEmpty
            try report.summary(result)
            patterns.warn(result.unmatchedPatterns)
        }
        if warned { throw ExitCode(Exit.partial) }
    }
}
