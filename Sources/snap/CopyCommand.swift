import ArgumentParser
import Foundation
import SnapComposition
import SnapCore
import SnapEngine
import SnapRepository

struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy", abstract: "Copy snapshots from another snap repository, or import them from a restic repository.",
        discussion: """
        The repositories may have different keys and chunker settings: every blob is decrypted \
        from the source and stored under the destination's keys unless the destination has it. \
        Snapshots already copied (found by their 'original' ID) are skipped, so an interrupted copy \
        resumes. The destination is the usual -r/--repo; the source is --from-repo.

        With --from-repo restic:LOCATION (a path, s3:, sftp:, rest: or rclone: location of a \
        restic repository, read-only), every selected restic snapshot becomes one snap snapshot \
        with the same time, host, user, paths and tags; its 'imported_from' names the restic \
        snapshot, so a second run imports only what is new. Content is re-chunked with this \
        repository's chunker; a file whose restic content was imported before is not read again \
        (docs/from-restic.md).
        """)

    @Argument(help: "Snapshots to copy (IDs, prefixes, 'latest'); all matching the filters if none.")
    var ids: [String] = []

    @Option(name: .customLong("from-repo"), parsing: .unconditional, help: "The source repository's location (default: $SNAP_FROM_REPOSITORY).")
    var fromRepository: String?

    @Option(name: .customLong("from-repository-file"), parsing: .unconditional, help: ArgumentHelp(
        "Read the source repository's location from this file, as restic's option (default: $SNAP_FROM_REPOSITORY_FILE).",
        valueName: "file"))
    var fromRepositoryFile: String?

    @Option(name: .customLong("from-key-hint"), parsing: .unconditional, help: ArgumentHelp(
        "Try the source's key file whose ID begins so first (default: $SNAP_FROM_KEY_HINT).", valueName: "id"))
    var fromKeyHint: String?

    @Option(name: .customLong("from-password-file"), parsing: .unconditional, help: "Read the source's password from this file (default: $SNAP_FROM_PASSWORD_FILE, else $SNAP_FROM_PASSWORD).")
    var fromPasswordFile: String?

    @Option(name: .customLong("from-password-command"), parsing: .unconditional, help: "Run this shell command and use its output as the source's password (default: $SNAP_FROM_PASSWORD_COMMAND).")
    var fromPasswordCommand: String?

    @OptionGroup var filter: FilterOptions

    @OptionGroup(title: "Global options") var global: GlobalOptions

    /// The source's password: from --from-password-file or --from-password-command (not
    /// both), else `SNAP_FROM_PASSWORD_FILE`, `SNAP_FROM_PASSWORD_COMMAND`, `SNAP_FROM_PASSWORD`,
    /// or asked for. A file or command's output for a restic repository loses the white
    /// space around it, as restic reads them.
    private func sourcePassword(_ env: [String: String], restic: Bool) throws -> String {
        if fromPasswordFile != nil && fromPasswordCommand != nil {
            throw CLIError("--from-password-file and --from-password-command are mutually exclusive; give one", exitCode: 64)
        }
        let ending: PasswordSource.Ending = restic ? .whiteSpace : .lineEnding
        let file = fromPasswordFile ?? (fromPasswordCommand == nil ? env["SNAP_FROM_PASSWORD_FILE"] : nil)
        if let file {
            return try PasswordSource.read(file: file, ending: ending)
        } else if let command = fromPasswordCommand ?? env["SNAP_FROM_PASSWORD_COMMAND"] {
            return try PasswordSource.run(command: command, timeout: global.passwordCommandTimeout, ending: ending)
        } else if let value = env["SNAP_FROM_PASSWORD"], !value.isEmpty {
            return value
        }
        return try PasswordSource.prompt(confirm: false, label: "enter password for the source repository: ",
                                         refusal: "no password given for the source repository: set SNAP_FROM_PASSWORD or "
                                            + "SNAP_FROM_PASSWORD_FILE, or use --from-password-file or --from-password-command")
    }

    /// --from-repo, else the location in --from-repository-file (restic's file: the location
    /// alone, white space around it removed), else the variables of the same names.
    private func sourceLocation(_ env: [String: String]) throws -> String? {
        if fromRepository != nil && fromRepositoryFile != nil {
            throw CLIError("--from-repo and --from-repository-file are mutually exclusive; give one", exitCode: 64)
        }
        if let fromRepository { return fromRepository }
        if fromRepositoryFile == nil, !(env["SNAP_FROM_REPOSITORY"] ?? "").isEmpty, !(env["SNAP_FROM_REPOSITORY_FILE"] ?? "").isEmpty {
            throw CLIError("SNAP_FROM_REPOSITORY and SNAP_FROM_REPOSITORY_FILE are both set: unset one, or give --from-repo or --from-repository-file")
        }
        guard let path = fromRepositoryFile ?? env["SNAP_FROM_REPOSITORY_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return env["SNAP_FROM_REPOSITORY"]
        }
        let data: [UInt8]
        do {
            data = try SmallFile.read(path, limit: 1 << 16, keep: true)
        } catch {
            throw CLIError("cannot read the source's repository file \(path): \(error.cause)")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, !text.contains(where: \.isNewline) else {
            throw CLIError("the source's repository file \(path) holds \(text.isEmpty ? "nothing" : "more than one line"): give one location")
        }
        return text
    }

    func run() throws {
        try reportingErrors {
            let env = global.environment
            guard let location = try sourceLocation(env), !location.isEmpty else {
                throw CLIError("no source repository: use --from-repo or --from-repository-file, or set SNAP_FROM_REPOSITORY")
            }
            let password = try sourcePassword(env, restic: location.hasPrefix(ResticCopy.prefix))
            if location.hasPrefix(ResticCopy.prefix) {
                try ResticCopy(location: String(location.dropFirst(ResticCopy.prefix.count)), password: password,
                               ids: ids, keyHint: fromKeyHint ?? env["SNAP_FROM_KEY_HINT"], filter: filter.snapshotFilter,
                               global: global).run()
                return
            }
            try RepositoryLocation.checkLocal(location)
            let sourceBackend = try RepositoryLocation.backend(for: location, options: global.backendOptions)
            let source: Repository
            do {
                // The source has a cache of its own (its folder is named by its repository ID), so
                // that its index is a mapped table as the destination's is.
                let folders = global.localFolders(for: [location])
                source = try Repository.open(backend: sourceBackend, password: password, keyLimits: try global.keyLimits(),
                                             cacheRoot: folders.cache, indexCacheRoot: folders.index, hintRoot: folders.hint,
                                             keyHint: fromKeyHint ?? env["SNAP_FROM_KEY_HINT"], report: GlobalOptions.warn)
            } catch {
                throw CLIError("cannot open the source repository \(sourceBackend.location): \(error)", exitCode: Exit.code(for: error))
            }
            let destination = try global.openRepository()
            let records = try filter.select(ids, in: source, global: global)
            try global.loadIndex(source)
            let progress = TaskProgress()
            let line = StatusLine.task(progress, global: global)
            let copied = Result { try SnapshotCopier(from: source, to: destination, hostname: Identity.hostname,
                                                     readWorkers: global.connections, progress: progress).copy(records) { id, error in
                Output.error("warning: destination index \(id.short) skipped: \(error)")
            } }
            line?.stop()
            do {
                report(try copied.get())
            } catch let stopped as CopyStopped {
                // What was saved before the snapshot that failed, then the one-line error.
                report(stopped.result)
                throw stopped
            }
        }
    }

    private func report(_ result: CopyResult) {
        if global.json { try? Output.jsonSummary(result); return }
        guard !global.quiet else { return }
        for (from, to) in result.copied { Output.line("snapshot \(from.short) copied as \(to.short)") }
        if !result.alreadyCopied.isEmpty { Output.line("\(result.alreadyCopied.count) snapshots were already copied") }
        Output.line("copied \(result.copied.count) snapshots: \(result.blobsCopied) blobs stored (\(Output.bytes(result.bytesCopied))), \(result.blobsPresent) already present")
    }
}
