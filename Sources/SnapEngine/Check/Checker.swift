import SnapCore
import SnapRepository
import SnapStorage

/// What `Checker` examines beyond the structure.
public struct CheckOptions: Sendable {
    /// Packs to download and verify in full (`--read-data`, `--read-data-subset`); `nil`
    /// checks the structure only (plus, always, every pack whose size is wrong).
    public var readData: PackSubset?
    /// Threads verifying packs; each holds one piece of a pack (about 2 MiB) and a blob.
    public var workers = max(2, System.activeProcessorCount)
    /// Walk the snapshots once more to name the files and folders each damaged blob affects.
    public var locateDamage = true
    /// Seed for choosing packs with `PackSubset.percent`; random when `nil`.
    public var randomSeed: UInt64?
    /// When set, a `backup` lock is held under this host name while packs are read in full,
    /// and while a check whose first look found an error checks again, so that a prune
    /// running meanwhile does not delete packs the check has seen in the index (FORMAT.md,
    /// "Locks and deletion marks"). If the lock cannot be written (read-only storage), the
    /// check runs without it and says so in an `info` finding.
    public var lockHostname: String?
    /// With `lockHostname` and no `readData`: look once without the lock, and write the lock
    /// and check again only when that look finds an error (`Checker.run`). Two requests fewer
    /// for a healthy repository; a damaged one is checked twice.
    public var lookFirstWithoutLock = true
    /// How the trees are read: packs at once, and the bytes of decoded trees kept.
    public var trees = TreeLoader.Options()
    /// How the blob index is held (a mapped table in the cache for large repositories).
    public var indexPolicy = IndexCachePolicy()
    /// Above this many blobs in missing packs, a mapped index answers which pack held a lost
    /// blob (`findCopiesInTable`) instead of a map of them all (`findCopies`: about 100 bytes
    /// a blob; 2 GB for a repository of 20 M blobs whose packs are all gone).
    var lostBlobsInMemory = 1 << 20
    public init() {}
}

/// Checks a repository (`snap check`): index files, packs, snapshots and trees, and with
/// `readData` the content of packs, and names what is damaged and which files it affects.
///
/// Order: index files, then the list of packs (present, right size), headers of packs no
/// index names, snapshots, every tree reachable from a snapshot (each loaded once) while
/// the packs to verify in full are read beside it, and finally, when something is damaged,
/// the snapshot paths that use each damaged blob. `run` replaces the contents of `repository.index` with the
/// packs that exist (so a blob stored twice is read from the copy that is still there) plus
/// the packs no index names.
///
/// A check that reads no packs in full looks first without a lock (`lookWithoutLock`) and
/// stops there when it finds nothing wrong; otherwise it takes the lock and checks again.
/// With a lock, `locks/`, `snapshots/`, `index/` and `data/` are listed right after it, in one
/// listing where the provider can (S3). Such a listing may be torn by a backup ending while it
/// runs (`KindListing`), so a check on it that finds an error, where a snapshot or index file
/// is as new as the lock, runs again on folders listed one by one, and reports that run.
///
/// Not thread-safe; `run` uses `options.workers` threads of its own.
public final class Checker {
    let repository: Repository
    private let options: CheckOptions
    let progress: CheckProgress
    private var report = CheckReport()

    /// Packs the index names (the first description, when several index files name one),
    /// without their entries: index files are read one at a time, and read again only for
    /// the few packs whose entries a report needs (missing packs, a header that disagrees).
    var indexedPacks: [PackID: IndexedPackSummary] = [:]
    /// The index files read, numbered as `IndexedPackSummary.source` names them.
    private var indexFileNumbers: [IndexID] = []
    /// Stored packs holding a copy of a blob whose indexed pack is missing: those entries,
    /// added to the blob index so that the copy is read.
    var survivingCopies: [IndexedPack] = []
    /// Packs in storage, with their sizes.
    var stored: [PackID: Int] = [:]
    /// Indexed packs whose stored size differs from the index: verified in full in any case.
    var wrongSize: [PackID] = []
    /// Packs in storage that no index names, whose headers could be read.
    var unindexed: [PackID: IndexedPack] = [:]
    /// Packs named by deletion marks: condemned by a prune, to be deleted.
    var condemned: Set<PackID> = []
    var neededUnindexed: Set<PackID> = []
    /// `locks/` as scanned when the lock was written.
    private var lockScan: CoordinationScan?
    /// Why the lock could not be written: an `info` finding of every check run after.
    private var lockFailure: String?
    /// The index files listed, and the ones read whole while the index is small.
    private var indexFilesListed: [IndexID] = []
    private var indexFilesRead: [IndexID: IndexFile] = [:]
    /// Indexed packs that are not in storage.
    var missingPacks: Set<PackID> = []
    /// Blobs whose every indexed pack is missing, with one of those packs, when the loss is
    /// small or the index is in memory; otherwise the mapped table answers
    /// (`BlobIndex.removedPack(of:)`), and memory does not grow with the loss.
    var lostWithPack: [BlobID: PackID] = [:]
    var damage: [BlobID: CheckReport.DamagedBlob] = [:]
    var snapshots: [SnapshotRecord] = []
    /// Trees walked (or queued), at about 32 bytes each.
    var checkedTrees = BlobIDSet()
    /// Decodes trees on the checking thread (one zstd and HMAC context, not one per tree).
    lazy var treeDecoder = try? BlobDecoder(keys: repository.keys)
    var treeLoaderOptions: TreeLoader.Options { options.trees }

    public init(repository: Repository, options: CheckOptions = CheckOptions(), progress: CheckProgress = CheckProgress()) {
        self.repository = repository
        self.options = options
        self.progress = progress
    }

    /// Runs the check. Problems found go into the report; only failures to list files throw.
    ///
    /// - Parameter finished: called with the report once it is final, before the lock is
    ///   removed (which may wait for a storage that stopped answering): a caller that prints
    ///   it there has it printed even when it is interrupted during that wait.
    /// - Throws: `StorageError` when a folder cannot be listed (nothing can be checked then).
    public func run(finished: (CheckReport) -> Void = { _ in }) throws -> CheckReport {
        if options.lockHostname != nil && options.lookFirstWithoutLock && options.readData == nil {
            try lookWithoutLock()
            if report.isHealthy {
                finished(report)
                return report
            }
            progress.checkingAgain()
        }
        let locked = takeLock()
        defer { locked?.lock.release() }
        try check(lockScan: locked?.scan, listing: locked?.listing)
        // Folders listed together (S3) may show a snapshot or index file written meanwhile
        // without the index files or packs written before it: before reporting a problem
        // that such a writer could explain, list folder by folder and check again.
        if !report.isHealthy, let locked, locked.mayBeTorn(by: [.snapshots, .index]) {
            try check(lockScan: locked.scan, listing: nil)
        }
        finished(report)
        return report
    }

    /// The first look of a check that reads no packs in full: the same check on one listing of
    /// `locks/`, `snapshots/`, `index/` and `data/` (one request on S3), with no lock written
    /// or removed. A healthy result stands as it is: everything it saw was consistent when it
    /// was read. Anything else may be a prune or backup running meanwhile (a pack deleted, a
    /// listing torn), so `run` then checks again under the lock and reports only that.
    private func lookWithoutLock() throws {
        let listing = try repository.backend.list(kinds: [.locks, .snapshots, .index, .data])
        let scan = try Coordination.scan(repository, listed: listing[.locks])
        try check(lockScan: scan, listing: listing, locateDamage: false)
    }

    /// One check, with the folders as listed after the lock was written, or listed here one
    /// by one when `listing` is `nil` or lacks them.
    private func check(lockScan: CoordinationScan?, listing: KindListing?, locateDamage: Bool = true) throws {
        report = CheckReport()
        if let lockFailure { finding(.info, .lockUnavailable, FileName(.locks, ""), lockFailure) }
        indexedPacks = [:]; indexFileNumbers = []; survivingCopies = []; stored = [:]; wrongSize = []; unindexed = [:]; condemned = []
        neededUnindexed = []; missingPacks = []; lostWithPack = [:]; damage = [:]; snapshots = []; checkedTrees = BlobIDSet()
        indexFilesListed = []; indexFilesRead = [:]
        self.lockScan = lockScan
        // Snapshots first, index after: a snapshot is written only after the index files naming its blobs.
        try loadSnapshots(listed: listing?.files[.snapshots])
        try checkIndexFiles(listed: listing?.files[.index])
        try checkPacks(listed: listing?.files[.data])
        readUnindexedHeaders()
        try loadBlobIndex()
        // Packs are read and verified while the trees are walked: the walk is one thread,
        // the verification as many as `options.workers`.
        let verification = startVerifyingPacks()
        checkTrees()
        recordVerdicts(verification)
        if options.locateDamage && locateDamage && !damage.isEmpty { self.locateDamage() }
        report.damagedBlobs = damage.values.sorted { $0.id < $1.id }
        report.unindexedPacks = unindexed.values.sorted { $0.id < $1.id }
        report.neededUnindexedPacks = neededUnindexed
        report.condemnedPacks = condemned
        report.snapshots = snapshots
    }

    /// The lock, with `locks/`, `snapshots/`, `index/` and `data/` listed after it.
    private func takeLock() -> LockedListing? {
        guard let hostname = options.lockHostname else { return nil }
        do {
            return try RepositoryLock.withListing(kind: .backup, repository: repository, hostname: hostname,
                                                  listing: [.snapshots, .index, .data])
        } catch {
            lockFailure = "cannot write a lock (\(error)); if a prune runs meanwhile, packs it deletes may be reported missing"
            return nil
        }
    }

    // MARK: Index files and packs

    private func checkIndexFiles(listed: [FileInfo]?) throws {
        progress.start(.index)
        // A small index is kept whole as well, so that `loadBlobIndex` need not read it again.
        var entries = 0
        let files = try IndexFileSet.load(from: repository, listed: listed) { id, file in
            entries += file.packs.reduce(0) { $0 + $1.entries.count }
            if entries <= options.indexPolicy.minimumTableBlobs { indexFilesRead[id] = file } else { indexFilesRead = [:] }
            let number = UInt32(indexFileNumbers.count)
            indexFileNumbers.append(id)
            return file.packs.map { (id: $0.id, summary: IndexedPackSummary($0, source: number)) }
        }
        indexFilesListed = files.all
        report.statistics.indexFiles = files.all.count
        for (id, error) in files.unreadable {
            finding(.error, .indexUnreadable, FileName(.index, id.hex),
                    "cannot be used: \(PackVerifier.reason(error)); the packs it names look unindexed (run 'snap repair index')")
        }
        for (id, error) in files.supersededUnreadable {
            finding(.info, .supersededIndexUnreadable, FileName(.index, id.hex),
                    "cannot be read (\(PackVerifier.reason(error))), but another index file supersedes it, so it is not needed")
        }
        var reported: Set<PackID> = []
        for (id, packs) in files.active {
            for (packID, pack) in packs {
                guard let first = indexedPacks[packID] else {
                    indexedPacks[packID] = pack
                    continue
                }
                if !first.agrees(with: pack) && reported.insert(packID).inserted {
                    finding(.error, .packIndexedDifferently, FileName(.data, packID.hex),
                            "index files \(indexSource(of: packID)?.short ?? "?") and \(id.short) describe the pack differently (salt, size or entries)")
                }
            }
        }
        report.statistics.packs = indexedPacks.count
    }

    private func checkPacks(listed: [FileInfo]?) throws {
        progress.start(.packs)
        // `locks/` as listed when the check's lock was written; a mark written since names
        // packs that the check's lock keeps from being deleted.
        let coordination = try lockScan ?? Coordination.scan(repository)
        for file in coordination.unreadable {
            finding(.error, .lockUnreadable, file.file,
                    "cannot be read (\(file.reason)): it may be a running backup's lock or a deletion mark, so prune deletes nothing and backups refuse "
                    + "to start; if no snap command runs on any host, remove it with 'snap unlock --remove-all'")
        }
        condemned = Set(coordination.marks.flatMap { $0.record.packs ?? [] })
        for info in try listed ?? repository.backend.list(.data) {
            guard let id = PackID(hex: info.file.name) else { continue }
            stored[id] = info.size
        }
        for (id, pack) in indexedPacks.sorted(by: { $0.key < $1.key }) {
            guard let size = stored[id] else {
                finding(.error, .packMissing, FileName(.data, id.hex),
                        "named by the index but not in storage; it held \(pack.count) \(pack.firstType?.description ?? "") blobs")
                missingPacks.insert(id)
                continue
            }
            if size != pack.size {
                finding(.error, .packSizeMismatch, FileName(.data, id.hex), "is \(size) bytes, the index says \(pack.size)")
                wrongSize.append(id)
            }
        }
    }

    /// The blobs of the `missing` packs, less those a stored pack also holds (`lostWithPack`),
    /// and those stored copies (`survivingCopies`), from a second reading of the index files.
    private func findCopies(of missing: Set<PackID>) {
        lostWithPack = [:]
        var inMissing: [BlobID: PackID] = [:]
        let sources = liveIndexSources
        let file = { (id: IndexID) in try? self.repository.loadIndexFile(id) }
        for source in Set(missing.compactMap { indexSource(of: $0) }).sorted() {
            for pack in file(source)?.packs ?? [] where missing.contains(pack.id) && indexSource(of: pack.id) == source {
                for e in pack.entries { inMissing[e.id] = pack.id }
            }
        }
        // A blob stored twice survives in the other pack.
        var copies: [PackID: IndexedPack] = [:]
        for source in sources {
            for pack in file(source)?.packs ?? [] where stored[pack.id] != nil && indexSource(of: pack.id) == source {
                for e in pack.entries where inMissing.removeValue(forKey: e.id) != nil {
                    copies[pack.id, default: IndexedPack(id: pack.id, salt: pack.salt, size: pack.size, entries: [])].entries.append(e)
                }
            }
        }
        lostWithPack = inMissing
        survivingCopies = copies.values.sorted { $0.id < $1.id }
    }

    /// `findCopies` by the mapped table, before the missing packs are removed from it: an
    /// entry of a stored pack is a surviving copy when the table places its blob in a
    /// missing pack. One table search per entry of a stored pack, and memory for the copies
    /// found only; lost blobs are named later by `BlobIndex.removedPack(of:)`.
    private func findCopiesInTable(of missing: Set<PackID>) {
        var copies: [PackID: IndexedPack] = [:]
        var copied = Set<BlobID>()
        for source in liveIndexSources {
            guard let file = try? repository.loadIndexFile(source) else { continue }
            for pack in file.packs where stored[pack.id] != nil && indexSource(of: pack.id) == source {
                for e in pack.entries {
                    guard let held = repository.index.lookup(e.id)?.pack, held != pack.id, missing.contains(held),
                          copied.insert(e.id).inserted else { continue }
                    copies[pack.id, default: IndexedPack(id: pack.id, salt: pack.salt, size: pack.size, entries: [])].entries.append(e)
                }
            }
        }
        survivingCopies = copies.values.sorted { $0.id < $1.id }
    }

    private func readUnindexedHeaders() {
        let ids = stored.keys.filter { indexedPacks[$0] == nil }.sorted()
        report.statistics.unindexedPacks = ids.count
        guard !ids.isEmpty else { return }
        progress.start(.headers, total: ids.count)
        let sizes = ids.map { stored[$0] ?? 0 }
        let (repository, progress) = (self.repository, self.progress)
        let headers = ParallelWork.map(ids.count, workers: options.workers) { i -> Result<IndexedPack, Error> in
            defer { progress.step() }
            return Result {
                let header = try PackFormat.readHeader(of: ids[i], size: sizes[i], from: repository.backend, keys: repository.keys)
                return IndexedPack(id: ids[i], salt: header.salt, size: sizes[i], entries: header.entries)
            }
        }
        for (id, result) in zip(ids, headers) {
            switch result {
            case let .success(pack):
                unindexed[id] = pack
                let why = condemned.contains(id) ? "a prune condemned it and will delete it" : "left by an interrupted backup or prune"
                finding(.info, .packUnindexed, FileName(.data, id.hex), "is in no index (\(why)); it holds \(pack.entries.count) blobs")
            case .failure(StorageError.notFound):
                stored[id] = nil  // deleted since it was listed, by prune
            case let .failure(error):
                finding(.info, .packUnindexed, FileName(.data, id.hex),
                        "is in no index, and its header cannot be read: \(PackVerifier.reason(error))")
            }
        }
    }

    /// Fills `repository.index` as every command loads it (the cache's mapped table for a
    /// large repository), less the packs that are not in storage, plus the stored copies of
    /// their blobs and the unindexed packs for blobs no index has. Index files that cannot
    /// be read are left out, as `checkIndexFiles` reported.
    private func loadBlobIndex() throws {
        try repository.loadIndex(policy: options.indexPolicy, listed: indexFilesListed, preloaded: indexFilesRead,
                                   relistings: 0) { _, _ in }
        indexFilesRead = [:]
        if !missingPacks.isEmpty {
            let lost = missingPacks.reduce(0) { $0 + (indexedPacks[$1]?.count ?? 0) }
            if repository.index.isMapped && lost > options.lostBlobsInMemory {
                findCopiesInTable(of: missingPacks)
            } else {
                findCopies(of: missingPacks)
            }
        }
        repository.index.remove(packs: Set(repository.index.packs.map(\.id).filter { stored[$0] == nil }))
        for pack in survivingCopies { repository.index.add(pack) }
        for pack in unindexed.values.sorted(by: { $0.id < $1.id }) { repository.index.add(pack) }
    }

    private func loadSnapshots(listed: [FileInfo]?) throws {
        progress.start(.snapshots)
        snapshots = try SnapshotStore.all(in: repository, listed: listed) { id, error in
            finding(.error, .snapshotUnreadable, FileName(.snapshots, id.hex), "cannot be read: \(PackVerifier.reason(error))")
        }
        report.statistics.snapshots = snapshots.count
    }

    // MARK: Reading packs

    /// Starts verifying in full, in the background, the packs `readData` chooses and those
    /// whose size is wrong; `nil` when there are none.
    private func startVerifyingPacks() -> Pending<[PackVerifier.Verdict]>? {
        var chosen = Set(wrongSize)
        if let subset = options.readData {
            var random = PackSubsetRandom(seed: options.randomSeed ?? UInt64.random(in: .min ... .max))
            chosen.formUnion(subset.select(from: indexedPacks.keys.filter { stored[$0] != nil }, using: &random))
        }
        let work: [(pack: PackVerifier.Expected, size: Int)] = chosen.sorted().compactMap { id in
            guard let pack = indexedPacks[id], let size = stored[id], let source = indexSource(of: id) else { return nil }
            return (PackVerifier.Expected(pack: pack.withoutEntries(id: id), entryDigest: pack.digest.bytes, indexFile: source), size)
        }
        report.packsRead = work.map(\.pack.pack.id)
        report.statistics.packsRead = work.count
        guard !work.isEmpty else { return nil }
        progress.startReadingPacks(total: work.count)
        // Largest first, so that the last pack to finish is a small one.
        let order = work.indices.sorted { work[$0].size > work[$1].size }
        let verifier = PackVerifier(repository: repository)
        let progress = self.progress
        return ParallelWork.mapInBackground(order.count, workers: options.workers, label: "snap.check.packs") { i in
            let item = work[order[i]]
            let verdict = verifier.verify(item.pack, size: item.size)
            progress.packRead(bytes: UInt64(verdict.bytes))
            return verdict
        }
    }

    /// Waits for the verification and records what it found.
    private func recordVerdicts(_ verification: Pending<[PackVerifier.Verdict]>?) {
        guard let verification else { return }
        progress.start(.readData)
        // `mapInBackground` never fails.
        guard let verdicts = try? verification.wait() else { return }
        for verdict in verdicts.sorted(by: { $0.pack < $1.pack }) {
            report.statistics.bytesRead += UInt64(verdict.bytes)
            report.findings += verdict.findings
            for (entry, reason) in verdict.damaged {
                // When the index reads this blob from another pack, that copy serves it.
                if let location = repository.index.lookup(entry.id), location.pack != verdict.pack { continue }
                record(entry.id, entry.type, .damaged, pack: verdict.pack, reason)
            }
        }
    }

    /// The index file that `indexedPacks` takes pack `id`'s description from.
    func indexSource(of id: PackID) -> IndexID? {
        indexedPacks[id].map { indexFileNumbers[Int($0.source)] }
    }

    /// The index files that `indexedPacks` takes descriptions from, sorted.
    private var liveIndexSources: [IndexID] {
        Set(indexedPacks.values.map(\.source)).map { indexFileNumbers[Int($0)] }.sorted()
    }

    // MARK: Recording

    func finding(_ severity: CheckReport.Finding.Severity, _ kind: CheckReport.Finding.Kind, _ file: FileName, _ message: String) {
        report.findings.append(.init(severity: severity, kind: kind, file: file.description, message: message))
    }

    /// Records a problem with a blob; the first one stays, except that finding the data
    /// damaged replaces finding it merely unindexed.
    func record(_ id: BlobID, _ type: BlobType, _ problem: CheckReport.DamagedBlob.Problem, pack: PackID?, _ reason: String) {
        if let known = damage[id], !(known.problem == .unindexed && problem == .damaged) { return }
        damage[id] = .init(id: id, type: type, problem: problem, pack: pack, reason: reason, uses: [])
    }

    func replaceFindings(where match: (CheckReport.Finding) -> Bool, with make: (CheckReport.Finding) -> CheckReport.Finding) {
        report.findings = report.findings.map { match($0) ? make($0) : $0 }
    }

    func countTree() {
        report.statistics.trees += 1
        progress.step()
    }

    func countContent(_ n: Int) { report.statistics.contentReferences += n }

    func addUse(_ id: BlobID, _ use: CheckReport.Use) {
        damage[id]?.uses.append(use)
    }
}
