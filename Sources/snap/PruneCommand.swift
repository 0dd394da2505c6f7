import ArgumentParser
import SnapCore
import SnapEngine
import SnapRepository

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Remove data that no snapshot uses; backups may keep running meanwhile.")

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @OptionGroup var repacking: RepackOptions

    @Flag(name: [.customShort("n"), .customLong("dry-run")], help: "Only report what would be done.")
    var dryRun = false

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            let result = try prune(repository: repository, global: global, repacking: repacking, dryRun: dryRun)
            try PruneCommand.print(result, global: global, dryRun: dryRun)
        }
    }

    static func print(_ r: PruneResult, global: GlobalOptions, dryRun: Bool) throws {
        if global.json { try Output.jsonSummary(r); return }
        guard !global.quiet else { return }
        let verb = dryRun ? "would" : "did"
        Output.line("\(r.snapshots) snapshots use \(r.reachableBlobs) blobs in \(r.packs) packs")
        Output.line("\(verb) repack \(r.packsRepacked) packs (\(Output.bytes(UInt64(r.bytesRepacked))), copying \(r.blobsRepacked) blobs)")
        Output.line("\(verb) condemn \(r.packsCondemned) packs (\(Output.bytes(UInt64(r.bytesCondemned))))")
        if !dryRun {
            Output.line(deletionLine(r))
            if r.packsDeferred > 0 {
                Output.line("\(r.packsDeferred) condemned packs wait for running backups; a later prune deletes them")
            }
            if r.packsResurrected > 0 { Output.line("\(r.packsResurrected) condemned packs kept: snapshots written meanwhile use them") }
        }
    }

    /// What the deletions and the repacking's new packs did to the size of `data/`: packs
    /// condemned now may be deleted by a later prune only, so it can grow for a while.
    static func deletionLine(_ r: PruneResult) -> String {
        var line = "deleted \(counted(r.packsDeleted, "pack")) (\(Output.bytes(UInt64(r.bytesDeleted))))"
        if r.packsWritten > 0 { line += ", wrote \(counted(r.packsWritten, "new pack")) (\(Output.bytes(UInt64(r.bytesWritten))))" }
        let change = r.bytesDeleted - r.bytesWritten
        if change >= 0 { return line + ": the data is \(Output.bytes(UInt64(change))) smaller" }
        let until = r.packsDeferred > 0 ? " until a later prune deletes the packs condemned now" : ""
        return line + ": the data is \(Output.bytes(UInt64(-change))) larger" + until
    }

    /// `5%`, `0.5%`, `0` → a fraction.
    static func fraction(_ text: String) -> Double? {
        if text == "unlimited" { return 1 }  // restic's word: no pack is repacked for its unused space
        let number = text.hasSuffix("%") ? String(text.dropLast()) : text
        guard let v = Double(number), v >= 0, v <= 100 else { return nil }
        return v / 100
    }

    /// `500M`, `2G`, `1024` → bytes.
    static func bytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        if let last = text.uppercased().last, let unit = units[last], let v = Double(text.dropLast()) { return Int(v * Double(unit)) }
        return Int(text)
    }
}

/// `--max-unused` and `--max-repack-size`, of `prune` and of `forget --prune`, as restic's.
struct RepackOptions: ParsableArguments {
    @Option(name: .customLong("max-unused"), parsing: .unconditional,
            help: "Repack packs with more than this share unused, e.g. 5% (the default), 0, or unlimited (restic's word: none).")
    var maxUnused: String?

    @Option(name: .customLong("max-repack-size"), parsing: .unconditional, help: "Repack at most this much per run, e.g. 2G or 500M.")
    var maxRepackSize: String?

    func validate() throws {
        guard maxUnused.map(PruneCommand.fraction) != .some(nil) else { throw ValidationError("--max-unused must be a percentage from 0% to 100%, or unlimited (snap's limit is a share of each pack, so restic's sizes such as 1G do not apply)") }
        if let size = maxRepackSize, PruneCommand.bytes(size) == nil { throw ValidationError("--max-repack-size must be a size like 500M or 2G") }
    }

    /// Whether either option was given.
    var isSet: Bool { maxUnused != nil || maxRepackSize != nil }
}

/// Runs prune with the CLI's settings (shared with `forget --prune`).
func prune(repository: Repository, global: GlobalOptions, repacking: RepackOptions, dryRun: Bool = false,
           assumeForgotten: Set<SnapshotID> = []) throws -> PruneResult {
    var options = PruneOptions(hostname: Identity.hostname)
    options.maxUnused = repacking.maxUnused.flatMap(PruneCommand.fraction) ?? 0.05
    options.maxRepackBytes = repacking.maxRepackSize.flatMap(PruneCommand.bytes)
    options.dryRun = dryRun
    options.assumeForgotten = assumeForgotten
    return try prune(repository: repository, global: global, options: options)
}

/// Runs a prune with `options`, with its progress line; its messages go to standard error
/// as notes (left out with `-q`), or as warnings.
func prune(repository: Repository, global: GlobalOptions, options: PruneOptions, messagesAreWarnings: Bool = false) throws -> PruneResult {
    let quiet = global.quiet && !messagesAreWarnings
    Interruption.setOutcome("prune stopped; the repository stays valid, and the next prune finishes the work")
    let progress = TaskProgress()
    let line = StatusLine.task(progress, global: global)
    defer { line?.stop() }
    return try global.retryingLock {
        try Pruner(repository: repository, options: options, progress: progress) { message in
            if !quiet { Output.error("\(messagesAreWarnings ? "warning" : "note"): \(message)") }
        }.run()
    }
}
