import ArgumentParser
import Foundation
import SnapCore
import SnapEngine
import SnapRepository

struct RepairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair", abstract: "Repair a damaged repository: rebuild the index, rewrite damaged packs or snapshots.",
        subcommands: [RepairIndexCommand.self, RepairPacksCommand.self, RepairSnapshotsCommand.self])
}

struct RepairIndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index", abstract: "Rebuild the index from the packs' own headers.",
        discussion: """
        Reads the header of every pack and writes index files naming every pack whose header reads; they supersede \
        every existing index file, which are then deleted. Packs whose header cannot be read are left out and named. \
        Does nothing when the index already names exactly the readable packs.
        """)

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Flag(name: .customLong("dry-run"), help: "Only report what would be done.")
    var dryRun = false

    @Flag(name: .customLong("read-all-packs"), help: "Accepted as restic's: snap always reads every pack's header.")
    var readAllPacks = false

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository(cache: false)
            let progress = CheckProgress()
            let line = global.json ? nil : StatusLine.check(progress, global: global)
            let result: IndexRepairResult
            do {
                result = try global.retryingLock {
                    try Repairer(repository: repository, hostname: Identity.hostname, progress: progress).repairIndex(dryRun: dryRun)
                }
            } catch {
                line?.stop()
                throw error
            }
            line?.stop()
            let salvaged = Dictionary(result.salvagedPacks.map { ($0.pack, $0) }, uniquingKeysWith: { a, _ in a })
            for (pack, reason) in result.unreadablePacks {
                if let s = salvaged[pack] {
                    Output.error("warning: pack \(pack.hex): its header cannot be read (\(reason)); kept the \(s.kept) of its "
                                 + "\(s.described) indexed blobs that read intact; 'snap repair packs \(pack.short)' rewrites it")
                } else {
                    Output.error("warning: pack \(pack.hex) left out: its header cannot be read: \(reason)")
                }
            }
            if global.json { try Output.json(IndexRepairJSON(result)); return }
            guard !global.quiet else { return }
            for id in result.unreadableIndexFiles { Output.line("index file \(id.hex) cannot be read") }
            if !result.condemnedPacks.isEmpty {
                Output.line("\(counted(result.condemnedPacks.count, "pack")) condemned by a prune left out (awaiting deletion)")
            }
            if result.wasComplete {
                Output.line("the index already names every readable pack (\(counted(result.packs, "pack")), \(counted(result.blobs, "blob"))): nothing to do")
                return
            }
            let verb = dryRun ? "would " : ""
            Output.line("\(counted(result.packsAdded.count, "pack")) added, \(result.packsDropped.count) dropped, \(result.packsCorrected.count) corrected")
            for pack in result.packsDropped { Output.line("  dropped pack \(pack.hex)") }
            Output.line("\(verb)write \(counted(result.indexFiles, "index file")) naming \(counted(result.packs, "pack")) "
                        + "(\(counted(result.blobs, "blob"))), superseding and deleting \(counted(result.supersededFiles.count, "old index file"))")
            if !dryRun { Output.line("index rebuilt") }
        }
    }
}

struct RepairSnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots", abstract: "Rewrite snapshots whose files or folders need lost data.",
        discussion: """
        A file with lost content becomes NAME.damaged holding its intact parts (lost parts left out); a folder whose \
        listing is lost becomes an empty folder NAME.damaged; everything else is kept as it is. Each damaged snapshot \
        is replaced by one tagged 'repaired' whose parent is the original. Run 'snap repair index' first when index \
        files are damaged or lost.
        """)

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Flag(name: .customLong("dry-run"), help: "Only report what would be done.")
    var dryRun = false

    @Flag(help: "Delete each damaged snapshot once its replacement is saved.")
    var forget = false

    @Flag(name: .customLong("read-data"), help: "Also verify every pack, so blobs that fail authentication count as lost.")
    var readData = false

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository(cache: false)
            var options = SnapshotRepairOptions()
            options.dryRun = dryRun
            options.forget = forget
            options.readData = readData
            let progress = CheckProgress()
            let line = global.json ? nil : StatusLine.check(progress, global: global)
            let result: SnapshotRepairResult
            do {
                result = try Repairer(repository: repository, hostname: Identity.hostname, progress: progress).repairSnapshots(options)
            } catch {
                line?.stop()
                throw error
            }
            line?.stop()
            for (id, reason) in result.unreadableSnapshots {
                Output.error("warning: snapshot \(id.hex) cannot be read, so it cannot be repaired: \(reason); 'snap forget \(id.short)' removes it")
            }
            if global.json { try Output.json(SnapshotRepairJSON(result)); return }
            guard !global.quiet else { return }
            print(result)
        }
    }

    private func print(_ result: SnapshotRepairResult) {
        let would = dryRun ? "would be " : ""
        for r in result.repaired {
            let s = r.snapshot
            let files = r.changes.filter { if case .fileDamaged = $0.kind { return true } else { return false } }.count
            let folders = r.changes.count - files
            Output.line("snapshot \(r.original.short) (\(LocalTime.display(s.timestamp)), \(s.hostname), \(s.paths.joined(separator: " "))): "
                        + "\(counted(files, "damaged file")), \(counted(folders, "unreadable folder"))")
            for change in r.changes {
                let from = PathBytes.display(change.path), to = PathBytes.display(change.newPath)
                switch change.kind {
                case let .fileDamaged(lost, blobs, original, kept):
                    Output.line("  \(from) → \(to): \(lost) of \(blobs) blobs lost, \(kept) of \(original) bytes kept")
                case let .folderUnreadable(reason):
                    Output.line("  \(from) → \(to) (empty): folder listing lost: \(reason)")
                }
            }
            if let replacement = r.replacement {
                Output.line("  saved as snapshot \(replacement.short)\(r.forgotten ? "; original deleted" : "")")
            } else {
                Output.line("  a replacement \(would)saved\(forget ? " and the original deleted" : "")")
            }
        }
        for item in result.alreadyRepaired {
            let what = item.forgotten ? "original deleted" : dryRun && forget ? "original would be deleted" : "left alone"
            Output.line("snapshot \(item.original.short) was repaired before as \(item.replacement.short): \(what)")
        }
        if !result.indexedPacks.isEmpty {
            Output.line("\(counted(result.indexedPacks.count, "pack")) in no index hold blobs the snapshots need: \(dryRun ? "would index" : "indexed") them")
        }
        Output.line("\(counted(result.repaired.count, "snapshot")) \(dryRun ? "would be repaired" : "repaired"), \(result.intact) intact")
    }
}

/// The JSON shape of `snap repair index --json`.
struct IndexRepairJSON: Encodable {
    struct Skipped: Encodable { let pack: String, reason: String }
    let dryRun: Bool, wasComplete: Bool, packs: Int, blobs: Int
    let packsAdded: [String], packsDropped: [String], packsCorrected: [String], condemnedPacks: [String]
    struct Salvaged: Encodable { let pack: String, kept: Int, described: Int }
    let unreadablePacks: [Skipped], salvagedPacks: [Salvaged], unreadableIndexFiles: [String], supersededFiles: [String]
    let writtenFiles: [String]

    init(_ r: IndexRepairResult) {
        dryRun = r.dryRun; wasComplete = r.wasComplete; packs = r.packs; blobs = r.blobs
        packsAdded = r.packsAdded.map(\.hex); packsDropped = r.packsDropped.map(\.hex); packsCorrected = r.packsCorrected.map(\.hex)
        condemnedPacks = r.condemnedPacks.map(\.hex)
        unreadablePacks = r.unreadablePacks.map { Skipped(pack: $0.pack.hex, reason: $0.reason) }
        salvagedPacks = r.salvagedPacks.map { Salvaged(pack: $0.pack.hex, kept: $0.kept, described: $0.described) }
        unreadableIndexFiles = r.unreadableIndexFiles.map(\.hex)
        supersededFiles = r.supersededFiles.map(\.hex); writtenFiles = r.writtenFiles.map(\.hex)
    }

    enum CodingKeys: String, CodingKey {
        case dryRun = "dry_run", wasComplete = "was_complete", packs, blobs, packsAdded = "packs_added", packsDropped = "packs_dropped"
        case packsCorrected = "packs_corrected", condemnedPacks = "condemned_packs", unreadablePacks = "unreadable_packs"
        case salvagedPacks = "salvaged_packs"
        case unreadableIndexFiles = "unreadable_index_files", supersededFiles = "superseded_files", writtenFiles = "written_files"
    }
}

/// The JSON shape of `snap repair snapshots --json`.
struct SnapshotRepairJSON: Encodable {
    struct Change: Encodable {
        let path: String, newPath: String, kind: String
        let lostBlobs: Int?, blobs: Int?, originalSize: UInt64?, keptSize: UInt64?, reason: String?
        enum CodingKeys: String, CodingKey {
            case path, newPath = "new_path", kind, lostBlobs = "lost_blobs", blobs, originalSize = "original_size", keptSize = "kept_size", reason
        }
    }
    struct Repaired: Encodable {
        let original: String, replacement: String?, forgotten: Bool, changes: [Change]
    }
    struct Pair: Encodable { let original: String, replacement: String, forgotten: Bool }
    let dryRun: Bool
    let repaired: [Repaired]
    let alreadyRepaired: [Pair]
    let intact: Int
    let unreadableSnapshots: [String]
    let indexedPacks: [String]

    init(_ r: SnapshotRepairResult) {
        dryRun = r.dryRun
        repaired = r.repaired.map { item in
            Repaired(original: item.original.hex, replacement: item.replacement?.hex, forgotten: item.forgotten, changes: item.changes.map { c in
                let path = PathBytes.display(c.path), newPath = PathBytes.display(c.newPath)
                switch c.kind {
                case let .fileDamaged(lost, blobs, original, kept):
                    return Change(path: path, newPath: newPath, kind: "file_damaged", lostBlobs: lost, blobs: blobs,
                                  originalSize: original, keptSize: kept, reason: nil)
                case let .folderUnreadable(reason):
                    return Change(path: path, newPath: newPath, kind: "folder_unreadable", lostBlobs: nil, blobs: nil,
                                  originalSize: nil, keptSize: nil, reason: reason)
                }
            })
        }
        alreadyRepaired = r.alreadyRepaired.map { Pair(original: $0.original.hex, replacement: $0.replacement.hex, forgotten: $0.forgotten) }
        intact = r.intact
        unreadableSnapshots = r.unreadableSnapshots.map(\.id.hex)
        indexedPacks = r.indexedPacks.map(\.hex)
    }

    enum CodingKeys: String, CodingKey {
        case dryRun = "dry_run", repaired, alreadyRepaired = "already_repaired", intact
        case unreadableSnapshots = "unreadable_snapshots", indexedPacks = "indexed_packs"
    }
}
