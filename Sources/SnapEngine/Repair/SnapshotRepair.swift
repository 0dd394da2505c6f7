import SnapCore
import SnapRepository
import SnapStorage

/// How `Repairer.repairSnapshots` works.
public struct SnapshotRepairOptions: Sendable {
    /// Report what would change; write and delete nothing.
    public var dryRun = false
    /// Delete each damaged snapshot once its replacement is written.
    public var forget = false
    /// Also download and verify every pack, so that blobs failing authentication count as
    /// lost (without it: blobs missing from the index or from storage, and trees that do
    /// not load, count as lost).
    public var readData = false
    public init() {}
}

/// What `Repairer.repairSnapshots` found and did.
public struct SnapshotRepairResult: Sendable {
    public struct Repaired: Sendable {
        /// The damaged snapshot.
        public var original: SnapshotID
        /// Its replacement (written unless `dryRun`).
        public var snapshot: Snapshot
        /// The replacement's ID; `nil` with `dryRun`.
        public var replacement: SnapshotID?
        /// Every file and folder changed, in tree order.
        public var changes: [RepairChange]
        /// Whether the original was deleted (`forget`).
        public var forgotten = false
    }

    public var repaired: [Repaired] = []
    /// A snapshot that an earlier repair replaced.
    public struct AlreadyRepaired: Sendable, Equatable {
        public var original: SnapshotID
        public var replacement: SnapshotID
        /// Whether the original was deleted now (`forget`).
        public var forgotten = false

        public init(original: SnapshotID, replacement: SnapshotID, forgotten: Bool = false) {
            self.original = original; self.replacement = replacement; self.forgotten = forgotten
        }
    }

    /// Snapshots left alone because an earlier repair replaced them (with `forget`, deleted now).
    public var alreadyRepaired: [AlreadyRepaired] = []
    /// Snapshots that needed nothing.
    public var intact = 0
    /// Snapshot files that cannot be read at all (nothing can be rewritten from them).
    public var unreadableSnapshots: [(id: SnapshotID, reason: String)] = []
    /// Packs no index named that hold blobs the snapshots need: an index file was written for them.
    public var indexedPacks: [PackID] = []
    /// New tree blobs stored, and the packs holding them.
    public var treesWritten = 0
    public var packsWritten = 0
    /// The check the repair was based on.
    public var check = CheckReport()
    public var dryRun = false
}

extension Repairer {
    /// Rewrites every snapshot whose trees need lost blobs, so that everything still intact
    /// stays restorable and what is damaged is marked.
    ///
    /// First runs a check (structure; with `readData` also every pack). Then, for each
    /// readable snapshot, its trees are rewritten bottom-up:
    /// - a file or hard link with lost content blobs becomes a file named `NAME.damaged`
    ///   (`NAME.damaged-2`… if taken) with its metadata, holding its intact blobs in order
    ///   with the lost ones left out; its size is theirs. Restoring it gives the parts that
    ///   survived; the original name is absent, so nothing passes for intact.
    /// - a folder whose tree is lost or does not load becomes an empty folder
    ///   `NAME.damaged` (a snapshot whose root tree is lost becomes an empty snapshot);
    /// - everything else is kept unchanged, so every intact file restores byte-identical.
    ///
    /// A changed snapshot is replaced by a new one with the same time, host, user, paths,
    /// excludes and summary, the tags plus `repaired`, the original as `parent`, and the
    /// rewritten root; with `forget`, the original is deleted after the replacement is
    /// written. A snapshot that already has a replacement (a snapshot tagged `repaired`
    /// whose parent it is) is left alone, or with `forget` deleted, so a second run changes
    /// nothing.
    ///
    /// Write order: tree packs, their index, the replacement snapshots, then deletions.
    ///
    /// - Throws: `RepairError.indexUnreadable` when index files cannot be read (run
    ///   `repairIndex` first), `.readFailed` when storage failed while reading packs or
    ///   trees (so what is lost is unknown), both before anything is written; storage
    ///   errors. With `dryRun` nothing is written.
    public func repairSnapshots(_ options: SnapshotRepairOptions) throws -> SnapshotRepairResult {
        var result = SnapshotRepairResult()
        result.dryRun = options.dryRun
        // Like a backup, the lock comes before the index is read.
        let lock = try lock(unless: options.dryRun)
        defer { lock?.release() }

        var checkOptions = CheckOptions()
        checkOptions.readData = options.readData ? .all : nil
        checkOptions.locateDamage = false
        checkOptions.workers = workers
        let check = try Checker(repository: repository, options: checkOptions, progress: progress).run()
        result.check = check
        let unreadableIndex = check.findings.filter { $0.kind == .indexUnreadable }
        if !unreadableIndex.isEmpty {
            throw RepairError.indexUnreadable(unreadableIndex.compactMap { IndexID(hex: String($0.file.split(separator: "/").last ?? "")) })
        }
        // A file in locks/ that cannot be read may be a mark whose packs must not be reused.
        _ = try Coordination.scan(repository).condemnedPacks(action: "repair not started")
        let failures = check.findings.filter { $0.kind == .readFailed || $0.kind == .packUnreadable }
        if !failures.isEmpty { throw RepairError.readFailed(failures.map { "\($0.file): \($0.message)" }) }
        result.unreadableSnapshots = check.findings.filter { $0.kind == .snapshotUnreadable }.compactMap { finding in
            SnapshotID(hex: String(finding.file.split(separator: "/").last ?? "")).map { ($0, finding.message) }
        }
        let lost = Dictionary(check.damagedBlobs.filter(\.isLost).map { ($0.id, $0.reason) }, uniquingKeysWith: { a, _ in a })

        // Which unindexed packs hold what: a new tree that already sits in one needs no copy
        // unless the pack is condemned (a prune may delete it before it learns of our snapshot).
        let unindexedPacks = Dictionary(uniqueKeysWithValues: check.unindexedPacks.map { ($0.id, $0) })
        let saver = options.dryRun ? nil : BlobSaver(repository: repository)
        let copies = saver.map { CondemnedPackCopies(repository: repository, condemned: check.condemnedPacks, saver: $0) }
        var written: Set<BlobID> = []
        var reused: Set<PackID> = []
        let rewriter = TreeRewriter(repository: repository, lost: lost) { [repository] tree in
            let bytes = tree.encoded()
            let id = repository.keys.blobID(of: bytes)
            guard let saver, !written.contains(id) else { return id }
            if let location = repository.index.lookup(id), !check.condemnedPacks.contains(location.pack) {
                if unindexedPacks[location.pack] != nil { reused.insert(location.pack) }
                return id
            }
            try saver.save(.tree, id: id, plaintext: bytes)
            written.insert(id)
            copies?.record(id)
            return id
        }

        let records = check.snapshots
        var replacements: [SnapshotID: SnapshotID] = [:]
        for record in records where record.snapshot.tags.contains(Self.repairedTag) {
            if let parent = record.snapshot.parent { replacements[parent] = record.id }
        }
        progress.start(.rewrite, total: records.count)
        for record in records {
            defer { progress.step() }
            if let replacement = replacements[record.id] {
                result.alreadyRepaired.append(.init(original: record.id, replacement: replacement))
                continue
            }
            guard case let .rewritten(root, changes) = try rewriter.rewriteRoot(record.snapshot.tree) else {
                result.intact += 1
                continue
            }
            var snapshot = record.snapshot
            snapshot.tree = root
            snapshot.parent = record.id
            if !snapshot.tags.contains(Self.repairedTag) { snapshot.tags.append(Self.repairedTag) }
            snapshot.programVersion = snapVersion
            result.repaired.append(.init(original: record.id, snapshot: snapshot, replacement: nil, changes: changes))
            // The replacement keeps every intact blob of the original (CondemnedPackCopies).
            // Blobs no index names are passed over by `keep` (and trees by the walk) anyway.
            try copies?.keepAll(below: record.snapshot.tree) { lost[$0] != nil }
        }
        if options.dryRun || result.repaired.isEmpty {
            result.indexedPacks = check.neededUnindexedPacks.filter { !check.condemnedPacks.contains($0) }.sorted()
            if !options.dryRun {
                try indexPacks(result.indexedPacks, from: unindexedPacks)
                if options.forget { try forgetRepaired(&result) }
            }
            return result
        }

        // Packs first, then index files naming them, then the snapshots (FORMAT.md, "Write order").
        if let saver {
            let saved = try saver.finish()
            result.treesWritten = saved.blobs - (copies?.copied ?? 0)
            result.packsWritten = saved.packs
        }
        result.indexedPacks = check.neededUnindexedPacks.union(reused).filter { !check.condemnedPacks.contains($0) }.sorted()
        try indexPacks(result.indexedPacks, from: unindexedPacks)
        if let lock {
            let quiet = lock.longestSilence
            if quiet > timing.staleAfter - timing.refreshInterval { throw RepairError.lockStale(seconds: Int(quiet)) }
        }
        for i in result.repaired.indices {
            result.repaired[i].replacement = try SnapshotStore.save(result.repaired[i].snapshot, in: repository)
        }
        if options.forget { try forgetRepaired(&result) }
        return result
    }

    /// Deletes the originals of snapshots that have a saved replacement.
    private func forgetRepaired(_ result: inout SnapshotRepairResult) throws {
        func delete(_ id: SnapshotID) throws {
            try repository.backend.delete(FileName(.snapshots, id.hex))
        }
        for i in result.repaired.indices where result.repaired[i].replacement != nil {
            try delete(result.repaired[i].original)
            result.repaired[i].forgotten = true
        }
        for i in result.alreadyRepaired.indices {
            try delete(result.alreadyRepaired[i].original)
            result.alreadyRepaired[i].forgotten = true
        }
    }

    /// Writes one index file naming `ids` (packs no index names), so their blobs can be found.
    private func indexPacks(_ ids: [PackID], from headers: [PackID: IndexedPack]) throws {
        let packs = ids.compactMap { headers[$0] }
        guard !packs.isEmpty else { return }
        _ = try repository.saveFile(.index, plaintext: IndexFile(packs: packs).encoded())
    }
}
