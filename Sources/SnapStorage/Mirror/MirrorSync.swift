import Synchronization

/// Brings the replicas of a mirror to the same files, without the password.
///
/// Copies every file that some replica has and another lacks, phase by phase in
/// dependency order — key files, config, packs, index files, snapshots — and starts a phase
/// only when the previous one is done, so that each replica is a valid repository at every
/// instant. A replica that a copy failed to reach gets nothing from the later phases in
/// this run. Each copied content-named file is read from a source replica and checked
/// against its name before it is written; a source with a damaged copy is reported (and
/// repaired) and the next source is tried.
///
/// Damaged copies are found where listed sizes differ, and with `verify` by reading every
/// copy; they are replaced from a good copy. Nothing is deleted unless `deleteExtra` is
/// set: then snapshots, index files and packs that the first replica lacks are deleted from
/// the others (snapshots first), instead of being copied to it. Running it again after an
/// interruption simply finds what is still missing. See docs/mirroring.md.
public enum MirrorSync {
    public struct Options: Sendable {
        /// Report what would be done; write and delete nothing (damaged copies are still looked for).
        public var dryRun = false
        /// Read every copy of every content-named file and check it against its name.
        public var verify = false
        /// Delete snapshots, index files and packs that the first replica lacks from the others.
        public var deleteExtra = false
        /// Files copied (and copies checked) at once.
        public var parallelism = 4
        /// Only these replicas (by position) receive copies, repairs and deletions; all when `nil`.
        public var targets: Set<Int>?

        public init(dryRun: Bool = false, verify: Bool = false, deleteExtra: Bool = false, parallelism: Int = 4,
                    targets: Set<Int>? = nil) {
            self.dryRun = dryRun; self.verify = verify; self.deleteExtra = deleteExtra
            self.parallelism = max(1, parallelism); self.targets = targets
        }
    }

    /// One file copied, repaired or deleted (or, in a dry run, that would be).
    public struct Action: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable {
            /// Copied to a replica that lacked it.
            case copy
            /// Replaced a damaged copy.
            case repair
            /// Deleted an extra file (`deleteExtra`).
            case delete
        }
        public let action: Kind
        /// `data/…`, `index/…`, `config`, …
        public let file: String
        /// The replica the bytes came from (not for deletions).
        public let from: String?
        /// The replica written to or deleted from.
        public let to: String
        public let bytes: Int

        public init(action: Kind, file: String, from: String?, to: String, bytes: Int) {
            self.action = action; self.file = file; self.from = from; self.to = to; self.bytes = bytes
        }
    }

    /// What a sync did.
    public struct Report: Codable, Sendable {
        public let dryRun: Bool
        /// In the order of the phases, then by file.
        public let actions: [Action]
        /// What could not be done; empty when every replica now holds every file.
        public let problems: [String]

        /// Nothing was left undone.
        public var isComplete: Bool { problems.isEmpty }
    }

    /// Syncs the replicas.
    ///
    /// - Parameters:
    ///   - verifyName: whether bytes match a content-named file's name.
    ///   - report: told about damaged copies as they are found.
    ///   - onAction: told about each copy, repair and deletion as it happens.
    /// - Returns: what was done and what could not be; problems never stop the other copies.
    /// - Throws: when no replica can be listed, or `deleteExtra` is set and the first replica cannot be.
    public static func run(_ replicas: [Replica], options: Options = Options(), verifyName: @escaping NameVerifier,
                           report: @escaping @Sendable (String) -> Void = { _ in },
                           onAction: @escaping @Sendable (Action) -> Void = { _ in }) throws -> Report {
        let inventory = MirrorInventory.take(replicas, width: options.parallelism)
        guard !inventory.reachable.isEmpty else {
            throw StorageError.permanent(operation: "sync", file: nil, location: "mirror", detail: "no replica could be listed: "
                + replicas.indices.map { "\(replicas[$0].name): \(inventory.errors[$0] ?? "")" }.joined(separator: "; "))
        }
        if options.deleteExtra, let error = inventory.errors.first ?? nil {
            throw StorageError.permanent(operation: "sync", file: nil, location: replicas[0].name,
                                         detail: "--delete-extra deletes what the first replica lacks, and it cannot be listed: \(error)")
        }
        let run = SyncRun(inventory: inventory, options: options, verifyName: verifyName, report: report, onAction: onAction)
        for i in replicas.indices {
            if let error = inventory.errors[i], run.isTarget(i) {
                run.problem("replica \(replicas[i].name) could not be listed, so it was not synced: \(error)")
            }
        }
        let check = CopyCheck.run(inventory, verifyAll: options.verify, verifyName: verifyName, width: options.parallelism)
        // Copying between two repositories would put each one's keys, packs and snapshots
        // into the other, where they are junk: nothing is copied.
        if let conflict = check.configConflict {
            throw StorageError.permanent(operation: "sync", file: nil, location: "mirror", detail: conflict + "; nothing was copied")
        }
        if options.deleteExtra {
            let unexplained = inventory.unexplainedExtraSnapshots.filter { run.isTarget($0.replica) }
            if let (i, count) = unexplained.first {
                throw StorageError.permanent(operation: "sync", file: nil, location: replicas[i].name, detail:
                    "--delete-extra would delete \(count) snapshot\(count == 1 ? "" : "s") that \(replicas[i].name) holds and "
                    + "\(replicas[0].name) lacks, but \(replicas[0].name) went through no prune that \(replicas[i].name) missed (each "
                    + "of its index files is there too): they look like backups \(replicas[0].name) missed, not forgotten ones. "
                    + "Run `snap mirror sync` without --delete-extra to copy them to \(replicas[0].name), or forget them first; "
                    + "nothing was changed")
            }
        }
        check.unreadable.forEach(run.problem)
        for (file, bad) in check.bad.sorted(by: { $0.key.description < $1.key.description }) {
            for i in bad.sorted() { report("replica \(replicas[i].name) has a damaged copy of \(file)") }
        }
        if !options.deleteExtra, let warning = inventory.divergenceWarning(inventory.divergentIndexes) { report(warning) }
        for kind in FileKind.mirrored { run.copy(kind, bad: check.bad) }
        if options.deleteExtra {
            for kind in [FileKind.snapshots, .index, .data] { run.deleteExtra(kind) }
        }
        return run.finish()
    }
}

/// The state of one sync: what it found, did and could not do.
private final class SyncRun: Sendable {
    struct State {
        var actions: [MirrorSync.Action] = []
        var problems: [String] = []
        /// Replicas that a copy failed to reach: they get nothing from later phases.
        var blocked: Set<Int> = []
    }

    /// One file to copy: where from, in order of preference, and where to.
    struct Job: Sendable {
        let file: FileName
        let size: Int
        let sources: [Int]
        /// Replicas that lack the file.
        let missing: [Int]
        /// Replicas whose copy is damaged.
        let damaged: [Int]
    }

    let inventory: MirrorInventory
    let options: MirrorSync.Options
    let verifyName: NameVerifier
    let report: @Sendable (String) -> Void
    let onAction: @Sendable (MirrorSync.Action) -> Void
    let state = Mutex(State())

    init(inventory: MirrorInventory, options: MirrorSync.Options, verifyName: @escaping NameVerifier,
         report: @escaping @Sendable (String) -> Void, onAction: @escaping @Sendable (MirrorSync.Action) -> Void) {
        self.inventory = inventory; self.options = options; self.verifyName = verifyName
        self.report = report; self.onAction = onAction
    }

    var replicas: [Replica] { inventory.replicas }

    func isTarget(_ i: Int) -> Bool { options.targets?.contains(i) ?? true }

    func problem(_ text: String) { state.withLock { $0.problems.append(text) } }

    private func act(_ action: MirrorSync.Action.Kind, _ file: FileName, from: Int?, to: Int, bytes: Int) {
        let done = MirrorSync.Action(action: action, file: file.description, from: from.map { replicas[$0].name },
                                     to: replicas[to].name, bytes: bytes)
        state.withLock { $0.actions.append(done) }
        onAction(done)
    }

    private func block(_ i: Int) { state.withLock { _ = $0.blocked.insert(i) } }

    /// Whether `file` is to be deleted rather than copied (`deleteExtra` and the first replica lacks it).
    private func isExtra(_ file: FileName) -> Bool {
        options.deleteExtra && [.snapshots, .index, .data].contains(file.kind) && inventory.union[file]?[0] == nil
    }

    /// Copies every file of `kind` to the replicas that lack it or hold a damaged copy.
    func copy(_ kind: FileKind, bad: [FileName: Set<Int>]) {
        let blocked = state.withLock { $0.blocked }
        var jobs: [Job] = []
        var held: Set<Int> = []
        for file in inventory.orderedFiles where file.kind == kind && !isExtra(file) {
            let holders = inventory.union[file] ?? [:]
            let damagedHere = bad[file] ?? []
            let sources = holders.keys.sorted().filter { !damagedHere.contains($0) }
            let lacking = inventory.reachable.filter { holders[$0] == nil && isTarget($0) }
            let missing = lacking.filter { !blocked.contains($0) }
            held.formUnion(lacking.filter { blocked.contains($0) })
            // Replacing a damaged copy never adds a reference, so blocked replicas are repaired too.
            let damaged = damagedHere.sorted().filter(isTarget)
            guard !missing.isEmpty || !damaged.isEmpty else { continue }
            guard !sources.isEmpty else {
                problem("\(file) has no good copy on any replica (damaged on "
                    + damagedHere.sorted().map { replicas[$0].name }.joined(separator: ", ") + "); it cannot be copied")
                continue
            }
            jobs.append(Job(file: file, size: holders[sources[0]] ?? 0, sources: sources, missing: missing, damaged: damaged))
        }
        for i in held.sorted() {
            problem("did not copy \(Self.plural(kind)) to \(replicas[i].name): earlier copies to it failed, "
                + "and it must not get files that name what it lacks; run sync again")
        }
        let planned = jobs
        Parallel.forEach(planned.count, width: options.parallelism) { [self] k in execute(planned[k]) }
    }

    private static func plural(_ kind: FileKind) -> String {
        switch kind {
        case .config: return "config"
        case .keys: return "key files"
        case .data: return "packs"
        case .index: return "index files"
        case .snapshots: return "snapshots"
        case .locks: return "locks"
        }
    }

    private func execute(_ job: Job) {
        let file = job.file
        if options.dryRun {
            for t in job.missing { act(.copy, file, from: job.sources[0], to: t, bytes: job.size) }
            for t in job.damaged { act(.repair, file, from: job.sources[0], to: t, bytes: job.size) }
            return
        }
        var failures: [String] = []
        var readFailed = false
        var damaged = job.damaged
        for s in job.sources {
            let bytes: [UInt8]
            do {
                bytes = try replicas[s].backend.read(file)
            } catch {
                failures.append("\(replicas[s].name): \(error)")
                readFailed = true
                continue
            }
            if file.kind.isContentNamed && !verifyName(file, bytes) {
                failures.append("\(replicas[s].name): its copy does not match the name")
                report("replica \(replicas[s].name) has a damaged copy of \(file); trying another replica")
                if isTarget(s) { damaged.append(s) }
                continue
            }
            for t in job.missing {
                do {
                    try replicas[t].backend.write(file, data: bytes)
                    act(.copy, file, from: s, to: t, bytes: bytes.count)
                } catch {
                    problem("cannot copy \(file) to \(replicas[t].name): \(error)")
                    block(t)
                }
            }
            for t in damaged {
                do {
                    try replace(file, on: replicas[t].backend, with: bytes)
                    act(.repair, file, from: s, to: t, bytes: bytes.count)
                } catch {
                    problem("cannot repair \(file) on \(replicas[t].name): \(error)")
                    block(t)
                }
            }
            return
        }
        let targets = (job.missing + damaged).map { replicas[$0].name }.joined(separator: ", ")
        if readFailed {
            problem("cannot copy \(file) to \(targets): no replica gave a good copy (\(failures.joined(separator: "; ")))")
            job.missing.forEach(block)
        } else {
            problem("\(file) has no good copy on any replica (\(failures.joined(separator: "; "))); it cannot be copied to \(targets)")
        }
    }

    /// Writes a good copy over a damaged one, and checks it landed: a store that refuses to
    /// overwrite (S3 with If-None-Match) may keep the old bytes, so then the damaged copy is
    /// deleted first.
    private func replace(_ file: FileName, on backend: Backend, with bytes: [UInt8]) throws {
        try backend.write(file, data: bytes)
        if verifyName(file, try backend.read(file)) { return }
        try backend.delete(file)
        try backend.write(file, data: bytes)
    }

    /// Deletes files of `kind` that the first replica lacks from the other replicas.
    func deleteExtra(_ kind: FileKind) {
        var jobs: [(file: FileName, replica: Int, size: Int)] = []
        for file in inventory.orderedFiles where file.kind == kind && isExtra(file) {
            for (i, size) in (inventory.union[file] ?? [:]).sorted(by: { $0.key < $1.key }) where isTarget(i) {
                jobs.append((file, i, size))
            }
        }
        Parallel.forEach(jobs.count, width: options.parallelism) { [self, jobs] k in
            let (file, i, size) = jobs[k]
            if options.dryRun { return act(.delete, file, from: nil, to: i, bytes: size) }
            do {
                try replicas[i].backend.delete(file)
                act(.delete, file, from: nil, to: i, bytes: size)
            } catch {
                problem("cannot delete \(file) from \(replicas[i].name): \(error)")
            }
        }
    }

    func finish() -> MirrorSync.Report {
        // Copies and repairs in phase order, then deletions: snapshots, index files, packs.
        let phases = FileKind.mirrored.map(\.rawValue) + ["snapshots", "index", "data"].map { "delete " + $0 }
        func rank(_ a: MirrorSync.Action) -> (Int, String, String) {
            let kind = a.file == "config" ? "config" : String(a.file.prefix { $0 != "/" })
            let phase = phases.firstIndex(of: a.action == .delete ? "delete " + kind : kind) ?? phases.count
            return (phase, a.file, a.to)
        }
        let (actions, problems) = state.withLock { ($0.actions, $0.problems) }
        return MirrorSync.Report(dryRun: options.dryRun, actions: actions.sorted { rank($0) < rank($1) }, problems: problems)
    }
}
