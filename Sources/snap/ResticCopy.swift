import Dispatch
import SnapComposition
import SnapCore
import SnapEngine
import SnapRestic

/// `snap copy --from-repo restic:LOCATION`: imports restic snapshots into the repository.
/// Parses nothing itself (CopyCommand does); opens both repositories, selects, runs the
/// engine's `ResticImporter` and prints.
struct ResticCopy {
    static let prefix = "restic:"

    let location: String
    let password: String
    let ids: [String]
    /// `--from-key-hint`: the restic key file to try first.
    var keyHint: String? = nil
    let filter: SnapshotFilter
    let global: GlobalOptions

    func run() throws {
        guard !location.isEmpty else { throw CLIError("no location after 'restic:' in --from-repo") }
        try RepositoryLocation.checkLocal(location)
        let backend = try RepositoryLocation.backend(for: location, options: global.backendOptions)
        // The two repositories are opened side by side: each starts with its key's scrypt,
        // and restic's (calibrated by restic, often p > 1) can take half a second.
        let opening = Pending<ResticRepository>()
        let password = self.password
        let keyLimits = try global.keyLimits()
        let keyHint = self.keyHint
        DispatchQueue.global().async {
            opening.fulfil(Result { try ResticRepository(backend: backend, password: password, keyLimits: keyLimits, keyHint: keyHint) })
        }
        let destination = Result { try global.openRepository() }
        let source: ResticRepository
        do {
            source = try opening.wait()
        } catch let error as ResticError {
            var code = Exit.fatal, hint = ""
            switch error {
            case .keyAboveLimit: (code, hint) = (Exit.wrongPassword, "; raise the limit with --max-key-memory")
            case let .wrongPassword(_, _, untried): (code, hint) = (Exit.wrongPassword, untried.isEmpty ? "" : "; raise the limit with --max-key-memory")
            case .noKeys, .snapRepository: code = Exit.noRepository
            case .exclusivelyLocked: code = Exit.lockFailed
            default: break
            }
            throw CLIError("cannot open the restic repository \(backend.location): \(error)\(hint)", exitCode: code)
        }
        for problem in source.unreadableSnapshots { Output.error("warning: left out: \(problem)") }
        let selected = try select(source)
        var options = ImportOptions(lockHostname: Identity.hostname)
        options.stopRequested = { Interruption.isFinishing }
        let session = try ImportSession(repository: try destination.get(), options: options, warn: { Output.error("warning: \($0)") })
        defer { session.close() }
        let progress = TaskProgress()
        let line = StatusLine.task(progress, global: global)
        let importer = ResticImporter(source: source, session: session, progress: progress)
        var done = 0
        let (json, quiet) = (global.json, global.quiet)
        importer.onImported = { from, to in
            done += 1
            // Said at once, so that an import that stops later still tells what it saved.
            if !json && !quiet { line?.clear(); Output.line("restic snapshot \(from.short) imported as \(to.short)") }
        }
        let outcome = Result { try importer.run(selected) }
        line?.stop()
        let result: ResticImportResult
        do {
            result = try outcome.get()
        } catch let error as ResticError {
            guard let failed = importer.current else { throw error }
            let kept = done == 0 ? "" : "; the \(done) snapshots imported before it stay"
            throw CLIError("restic snapshot \(failed.short) cannot be imported: \(error)\(kept)")
        }
        if json { try Output.jsonSummary(result); return }
        for warning in result.warnings { Output.error("warning: \(warning)") }
        guard !quiet else { return }
        if !result.alreadyImported.isEmpty { Output.line("\(result.alreadyImported.count) restic snapshots were imported before") }
        Output.line("imported \(result.imported.count) snapshots: \(result.filesRead) files read (\(Output.bytes(result.bytesRead))), "
                    + "\(result.filesKnown) files already imported, \(Output.bytes(result.bytesAdded)) new")
    }

    /// The restic snapshots the filters match, or the ones named by `ids` (IDs, prefixes,
    /// `latest`), oldest first. As in restic, the filters only choose what `latest` means.
    private func select(_ source: ResticRepository) throws -> [(id: ResticSnapshotID, snapshot: ResticSnapshot)] {
        let matching = source.snapshots.filter {
            filter.matches(hostname: $0.snapshot.hostname, paths: $0.snapshot.paths, tags: $0.snapshot.tags)
        }
        guard !ids.isEmpty else { return matching }
        var chosen: [(id: ResticSnapshotID, snapshot: ResticSnapshot)] = []
        for id in ids {
            let entry: (id: ResticSnapshotID, snapshot: ResticSnapshot)
            if id == "latest" {
                guard let newest = matching.last else {
                    Output.error("warning: ignoring 'latest': no restic snapshot matches the filters")
                    continue
                }
                entry = newest
            } else {
                do {
                    entry = try source.snapshot(matching: id)
                } catch ResticError.snapshotNotFound {
                    // As restic's "Ignoring …", and snap's copy between snap repositories.
                    Output.error("warning: ignoring '\(id)': no restic snapshot has an ID starting with it")
                    continue
                }
            }
            if !chosen.contains(where: { $0.id == entry.id }) { chosen.append(entry) }
        }
        return chosen.sorted { a, b in (a.snapshot.timestamp ?? b.snapshot.timestamp).map { t in b.snapshot.timestamp.map { t < $0 } ?? false } ?? false }
    }
}
