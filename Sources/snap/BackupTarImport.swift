import ArgumentParser
import Foundation
import SnapCore
import SnapEngine

/// `snap backup --stdin-tar`: a tar archive on standard input (or a command's output)
/// becomes one snapshot, rooted at `/`, with the given time, host and tags.
extension BackupCommand {
    /// Options that select or compare files on disk mean nothing for a tar stream.
    func validateTarImport() throws {
        var unused: [String] = []
        if dryRun { unused.append("--dry-run") }
        if parent != nil { unused.append("--parent") }
        if groupBy != nil { unused.append("--group-by") }
        if skipIfUnchanged { unused.append("--skip-if-unchanged") }
        if force { unused.append("--force") }
        if ignoreInode { unused.append("--ignore-inode") }
        if ignoreCtime { unused.append("--ignore-ctime") }
        if readConcurrency != nil { unused.append("--read-concurrency") }
        if !exclude.isEmpty { unused.append("exclude patterns") }
        if excludeMore.excludeCaches || !excludeMore.excludeIfPresent.isEmpty || excludeMore.excludeLargerThan != nil || excludeMore.oneFileSystem {
            unused.append("exclude options")
        }
        if !unused.isEmpty {
            throw ValidationError("--stdin-tar imports the archive as it is: \(unused.joined(separator: ", ")) cannot be used with it")
        }
    }

    /// Imports the tar stream; returns whether members were left out (with warnings).
    func importTar(_ sources: BackupInputOptions.Sources) throws -> Bool {
        if sources.command == nil && isatty(STDIN_FILENO) == 1 {
            throw CLIError("--stdin-tar reads a tar archive from standard input, which is a terminal: pipe one in (borg export-tar REPO::ARCHIVE - | snap backup --stdin-tar)")
        }
        let repository = try global.openRepository()
        let command = try sources.command.map(StreamCommand.init)
        var options = ImportOptions(lockHostname: Identity.hostname)
        options.compressionLevel = compression?.level
        options.stopRequested = { Interruption.isFinishing }
        let labels = ImportedSnapshot(time: time.flatMap(RFC3339.parse) ?? WallClock.now, hostname: host ?? Identity.hostname,
                                      username: Identity.username, paths: ["/"],
                                      tags: TagList.parse(tags),
                                      origin: SnapshotOrigin(format: "tar", id: ""))
        Interruption.setOutcome("nothing was saved: no snapshot was written (data already uploaded is reused by the next backup)")
        let report = BackupReport(global: global)
        report.start()
        let result: BackupResult
        do {
            let session = try ImportSession(repository: repository, options: options, warn: { report.message($0) })
            defer { session.close() }
            let importer = session.snapshot(progress: report.progress, warnItem: { report.warn($0) })
            defer { importer.close() }
            try TarImport.read(TarReader(fd: command?.fd ?? STDIN_FILENO), into: importer)
            try command?.finish()
            result = try importer.save(labels)
            // Before the deferred closes remove the lock, which may wait on the storage.
            Interruption.setResult("snapshot \(result.id.short) was saved")
        } catch {
            report.stop()
            throw error
        }
        report.stop()
        Interruption.setResult("snapshot \(result.id.short) was saved")
        try report.summary(result)
        return !result.warnings.isEmpty
    }
}
