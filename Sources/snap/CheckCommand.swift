import ArgumentParser
import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import Synchronization

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check the repository and name what is damaged and which files it affects.",
        discussion: """
        Without options: every index file reads, every pack the index names exists with the indexed size, every \
        snapshot reads, and every tree of every snapshot is indexed, loads, authenticates and decodes, and every \
        file's content blobs are indexed. --read-data also downloads packs and verifies every blob. \
        Exit status 0 when nothing is wrong, 1 otherwise.
        """)

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Flag(name: .customLong("read-data"), help: "Download every pack and verify its name, header and every blob.")
    var readData = false

    @Option(name: .customLong("read-data-subset"), parsing: .unconditional,
            help: "Verify only some packs: n/t (slice n of t, by pack ID; 1/t … t/t cover every pack once) or N% (random).")
    var subset: String?

    @Flag(name: .customLong("with-cache"), help: "Accepted for restic's scripts: check reads verified copies from the cache unless --no-cache.")
    var withCache = false

    func validate() throws {
        if let subset {
            do { _ = try PackSubset(parsing: subset) } catch { throw ValidationError("--read-data-subset: \(error)") }
        }
    }

    func run() throws {
        var errors = 0
        try reportingErrors {
            // Index files, snapshots and packs of trees come from the cache when it holds a copy
            // that hashes to the file's name and the repository lists the file with the copy's
            // size; `--read-data` reads index files and snapshots from the repository (docs/cache.md).
            let fullRead = readData && subset == nil
            // The key file and config are read from the repository, whose state check reports.
            let repository = try global.openRepository(cachedKinds: fullRead ? [.data] : CachingBackend.cachedKinds,
                                                       keyCopies: false)
            var options = CheckOptions()
            if let subset { options.readData = try PackSubset(parsing: subset) } else if readData { options.readData = .all }
            // --no-lock: no lock at all, for storage this host may only read (restic's meaning).
            options.lockHostname = global.noLock ? nil : Identity.hostname
            options.trees.workers = global.connections
            let progress = CheckProgress()
            let line = StatusLine.check(progress, global: global)
            // Printed as soon as the report is final, before the lock's removal: an
            // interruption while that waits on a storage that stopped answering keeps it.
            var printing: Result<Void, any Error> = .success(())
            do {
                let report = try Checker(repository: repository, options: options, progress: progress).run { report in
                    line?.stop()
                    printing = Result {
                        if global.json {
                            try Output.jsonSummary(CheckJSON(report))
                        } else {
                            CheckText.print(report, readData: options.readData, quiet: global.quiet)
                        }
                    }
                }
                errors = report.errorCount
            } catch {
                line?.stop()
                throw error
            }
            try printing.get()
        }
        if errors > 0 {
            // Under --json a failing command ends with an `exit_error` (docs/json.md), as
            // restic's check does; the text report has said it already.
            if global.json { throw CLIError("the repository has \(counted(errors, "error")); see the summary's findings") }
            throw ExitCode(Exit.fatal)
        }
    }
}

/// The text report of `snap check`.
enum CheckText {
    static func print(_ report: CheckReport, readData: PackSubset?, quiet: Bool) {
        for f in report.findings where f.severity == .error || !quiet {
            Output.line("\(f.severity.rawValue): \(f.file): \(f.message)")
        }
        // Blobs below a lost folder listing cannot be traced to files.
        let listingsLost = report.damagedBlobs.contains { $0.type == .tree && $0.isLost }
        var folders: Set<CheckReport.Use> = []
        for blob in report.damagedBlobs {
            let pack = blob.pack.map { " (pack \($0.short))" } ?? ""
            Output.line("error: \(blob.type) blob \(blob.id.hex)\(pack) \(problem(blob.problem)): \(blob.reason)")
            if blob.uses.isEmpty {
                Output.line(listingsLost ? "    used by no readable folder of any snapshot" : "    used by no snapshot")
            }
            for use in blob.uses {
                if blob.type == .tree { folders.insert(use) }
                let what = blob.type == .tree ? "folder listing lost: " : ""
                Output.line("    snapshot \(use.snapshot.short) \(what)\(PathBytes.display(use.path))")
            }
        }
        let affected = report.affectedPaths
        if !affected.isEmpty {
            Output.line("affected snapshots:")
            for record in report.snapshots {
                guard let paths = affected[record.id] else { continue }
                let s = record.snapshot
                Output.line("  snapshot \(record.id.short) (\(LocalTime.display(s.timestamp)), \(s.hostname), \(s.paths.joined(separator: " "))): "
                            + "\(counted(paths.count, "damaged entry", "damaged entries"))")
                for path in paths {
                    let folder = folders.contains(CheckReport.Use(snapshot: record.id, path: path)) ? " (folder listing lost)" : ""
                    Output.line("    \(PathBytes.display(path))\(folder)")
                }
            }
        }
        let st = report.statistics
        if !quiet {
            var summary = "checked \(counted(st.snapshots, "snapshot")), \(counted(st.trees, "tree")), "
                + "\(counted(st.indexFiles, "index file")), \(counted(st.packs, "pack"))"
            if st.unindexedPacks > 0 { summary += " (and \(st.unindexedPacks) in no index)" }
            if st.packsRead > 0 || readData != nil {
                summary += "; read \(counted(st.packsRead, "pack")) (\(Output.bytes(st.bytesRead)))"
                if let readData, readData != .all { summary += ", \(readData)" }
            }
            Output.line(summary)
        }
        if report.isHealthy {
            if !quiet { Output.line("no errors were found") }
            return
        }
        Output.line("\(counted(report.errorCount, "error")) found")
        let rebuildIndex = report.findings.contains(where: { [.indexUnreadable, .packUnindexedNeeded, .packIndexedDifferently].contains($0.kind) })
            || report.damagedBlobs.contains(where: { $0.problem == .unindexed })
        if rebuildIndex {
            Output.line("hint: 'snap repair index' rebuilds the index from the packs' headers")
        }
        // Packs gone from storage: only `repair index` drops the index's entries for them.
        let packsGone = report.findings.contains { $0.kind == .packMissing }
        if report.findings.contains(where: { $0.kind == .readFailed || $0.kind == .packUnreadable }) {
            Output.line("hint: storage could not be read (see above); nothing is known about that data: check again later")
        }
        let lost = report.damagedBlobs.filter { $0.isLost && !$0.uses.isEmpty }
        // Packs damaged in place: `repair packs` copies what still reads out of them.
        let damagedPacks = (report.findings.filter { $0.kind == .packDamaged && $0.severity == .error }.compactMap { PackID(hex: String($0.file.suffix(64))) }
            + report.damagedBlobs.filter { $0.problem == .damaged }.compactMap(\.pack))
        let packs = Set(damagedPacks).sorted().map(\.short).joined(separator: " ")
        if !lost.isEmpty {
            // Blobs that fail authentication are found only by reading the packs, so the repair must read them too.
            let inPacks = lost.contains { [.damaged, .wrongType].contains($0.problem) }
            let readData = inPacks ? " --read-data" : ""
            var then = (packs.isEmpty ? [] : ["'snap repair packs \(packs)'"]) + (packsGone ? ["'snap repair index'"] : [])
            if then.isEmpty { then = ["'snap prune'"] }
            Output.line("hint: run 'snap repair snapshots\(readData) --forget', then \(then.joined(separator: " and ")): the affected "
                        + "snapshots are rewritten so everything intact stays restorable, and the damaged data is removed")
        } else if !packs.isEmpty {
            Output.line("hint: 'snap repair packs \(packs)' copies what still reads out of the damaged packs into new ones and deletes them")
        }
        if lost.isEmpty && packsGone && !rebuildIndex {
            Output.line("hint: 'snap repair index' drops the index's entries for the packs that are gone (no snapshot uses their blobs)")
        }
    }

    static func problem(_ p: CheckReport.DamagedBlob.Problem) -> String {
        switch p {
        case .missing: return "is missing"
        case .packMissing: return "is lost with its pack"
        case .unindexed: return "is in no index"
        case .damaged: return "is damaged"
        case .wrongType: return "has the wrong type"
        }
    }
}

/// `1 file`, `2 files`.
func counted(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
}

/// The JSON shape of `snap check --json`.
struct CheckJSON: Encodable {
    struct Finding: Encodable { let severity: String, kind: String, file: String, message: String }
    struct Use: Encodable { let snapshot: String, path: String }
    struct Blob: Encodable {
        let id: String, type: String, problem: String, pack: String?, reason: String, usedBy: [Use]
        enum CodingKeys: String, CodingKey { case id, type, problem, pack, reason, usedBy = "used_by" }
    }
    struct Affected: Encodable { let snapshot: String, paths: [String] }
    struct Statistics: Encodable {
        let indexFiles: Int, snapshots: Int, trees: Int, contentReferences: Int, packs: Int, unindexedPacks: Int, packsRead: Int, bytesRead: UInt64
        enum CodingKeys: String, CodingKey {
            case indexFiles = "index_files", snapshots, trees, contentReferences = "content_references", packs
            case unindexedPacks = "unindexed_packs", packsRead = "packs_read", bytesRead = "bytes_read"
        }
    }

    let ok: Bool
    let errors: Int
    let statistics: Statistics
    let findings: [Finding]
    let damagedBlobs: [Blob]
    let affected: [Affected]
    let packsRead: [String]

    enum CodingKeys: String, CodingKey {
        case ok, errors, statistics, findings, damagedBlobs = "damaged_blobs", affected, packsRead = "packs_read"
    }

    init(_ r: CheckReport) {
        ok = r.isHealthy
        errors = r.errorCount
        let s = r.statistics
        statistics = Statistics(indexFiles: s.indexFiles, snapshots: s.snapshots, trees: s.trees, contentReferences: s.contentReferences,
                                packs: s.packs, unindexedPacks: s.unindexedPacks, packsRead: s.packsRead, bytesRead: s.bytesRead)
        findings = r.findings.map { Finding(severity: $0.severity.rawValue, kind: $0.kind.rawValue, file: $0.file, message: $0.message) }
        damagedBlobs = r.damagedBlobs.map { b in
            Blob(id: b.id.hex, type: b.type.description, problem: b.problem.rawValue, pack: b.pack?.hex, reason: b.reason,
                 usedBy: b.uses.map { Use(snapshot: $0.snapshot.hex, path: PathBytes.display($0.path)) })
        }
        let paths = r.affectedPaths
        affected = r.snapshots.compactMap { record in
            paths[record.id].map { Affected(snapshot: record.id.hex, paths: $0.map(PathBytes.display)) }
        }
        packsRead = r.packsRead.map(\.hex)
    }
}
