import SnapCore
import SnapRepository
import SnapStorage

/// What `Repairer.repairIndex` found and did.
public struct IndexRepairResult: Sendable {
    /// Packs the rebuilt index describes, and their blobs.
    public var packs = 0
    public var blobs = 0
    /// Packs whose header cannot be read, with the reason; left out of the index unless
    /// salvaged (`salvagedPacks`).
    public var unreadablePacks: [(pack: PackID, reason: String)] = []
    /// Of `unreadablePacks`, those the old index described: the blobs of that description
    /// that still read intact are kept (`kept` of `described`), so an unreadable header
    /// (a pack cut short, or with bytes appended) loses no blob that is still there.
    public var salvagedPacks: [(pack: PackID, kept: Int, described: Int)] = []
    /// Packs a prune condemned (deletion marks) that no index names: left out, as backups do.
    public var condemnedPacks: [PackID] = []
    /// Packs the old index named that the new one does not (missing, or header unreadable).
    public var packsDropped: [PackID] = []
    /// Packs the new index names that the old one did not.
    public var packsAdded: [PackID] = []
    /// Packs named by both whose description (salt, size or entries) changed.
    public var packsCorrected: [PackID] = []
    /// Index files that could not be read.
    public var unreadableIndexFiles: [IndexID] = []
    /// Index files the new ones supersede (and that were then deleted, unless `dryRun`).
    public var supersededFiles: [IndexID] = []
    /// Index files written (none with `dryRun`, or when the index was already complete).
    public var writtenFiles: [IndexID] = []
    /// How many index files the rebuilt index takes (written unless `dryRun`).
    public var indexFiles = 0
    /// Whether the index already described exactly the readable packs, so nothing was done.
    public var wasComplete = false
    public var dryRun = false
}

extension Repairer {
    /// Packs per index file written.
    static let packsPerIndexFile = 4096

    /// Rebuilds the index from the packs' own headers.
    ///
    /// Reads the header of every pack in storage and writes index files naming every pack
    /// whose header reads, the last of which supersedes **every** index file that existed
    /// (readable or not); then deletes those. Packs whose header cannot be read are reported,
    /// and keep those blobs of their old index entries that still read intact (`salvage`);
    /// packs no readable index file described are left out. So are packs condemned by a prune that no index names any more (as a
    /// backup would). When the readable index files already name exactly these packs with
    /// these entries, nothing is written: running it twice changes nothing.
    ///
    /// Holds a `prune` lock (unless `dryRun`), so that no prune runs meanwhile, and refuses to
    /// start beside a live one (`RepairError.pruneRunning`).
    ///
    /// Write order: new index files first, the superseding one last, then the deletions.
    /// Killed before the last file, old and new files coexist (duplicates are harmless);
    /// after it, the old files are ignored even if their deletion was interrupted.
    ///
    /// - Throws: storage errors listing, reading (other than damage) or writing files, before
    ///   anything is written when reading fails; `dryRun` writes nothing.
    public func repairIndex(dryRun: Bool) throws -> IndexRepairResult {
        var result = IndexRepairResult()
        result.dryRun = dryRun
        // A `prune` lock, not a backup's: a prune beside would delete packs this listing
        // holds after it wrote its own index, and the index written here would name them.
        let locked = dryRun ? nil : try RepositoryLock.withScan(kind: .prune, repository: repository, hostname: hostname, timing: timing)
        defer { locked?.lock.release() }
        let scan = try locked?.scan ?? Coordination.scan(repository)
        if let locked, let other = scan.otherPruneLock(now: locked.lock.storageNow, measured: locked.lock.clockOffset != nil,
                                                       localHost: hostname, timing: timing) {
            throw RepairError.pruneRunning(host: other.record.hostname, pid: other.record.pid)
        }

        // Index files are listed before packs: any pack an index file names was uploaded
        // before that file was written, so it is in the pack listing that follows.
        progress.start(.index)
        let files = try IndexFileSet.load(from: repository)
        result.unreadableIndexFiles = files.unreadable.map(\.id)
        var live: [PackID: [IndexedPack]] = [:]
        for (_, file) in files.active { for pack in file.packs { live[pack.id, default: []].append(pack) } }
        let condemned = try scan.condemnedPacks(action: "repair not started")

        progress.start(.packs)
        var listed: [(id: PackID, size: Int)] = []
        for info in try repository.backend.list(.data) {
            guard let id = PackID(hex: info.file.name) else { continue }
            if condemned.contains(id) && live[id] == nil {
                result.condemnedPacks.append(id)
            } else {
                listed.append((id, info.size))
            }
        }
        let candidates = listed.sorted { $0.id < $1.id }
        result.condemnedPacks.sort()

        progress.start(.headers, total: candidates.count)
        let (repository, progress) = (self.repository, self.progress)
        let headers = ParallelWork.map(candidates.count, workers: workers) { i -> Result<IndexedPack, Error> in
            defer { progress.step() }
            let (id, size) = candidates[i]
            return Result {
                let header = try PackFormat.readHeader(of: id, size: size, from: repository.backend, keys: repository.keys)
                return IndexedPack(id: id, salt: header.salt, size: size, entries: header.entries)
            }
        }
        var packs: [IndexedPack] = []
        for (candidate, header) in zip(candidates, headers) {
            switch header {
            case let .success(pack): packs.append(pack)
            case .failure(StorageError.notFound): continue  // deleted since it was listed
            case let .failure(error) where PackVerifier.isDamage(error):
                result.unreadablePacks.append((candidate.id, PackVerifier.reason(error)))
                if let described = live[candidate.id]?.max(by: { $0.entries.count < $1.entries.count }),
                   let salvaged = try salvage(described) {
                    packs.append(salvaged)
                    result.salvagedPacks.append((candidate.id, salvaged.entries.count, described.entries.count))
                }
            case let .failure(error):
                // Storage trouble says nothing about the pack: dropping it would lose its blobs.
                throw error
            }
        }
        result.packs = packs.count
        result.blobs = packs.reduce(0) { $0 + $1.entries.count }

        let wanted = Dictionary(uniqueKeysWithValues: packs.map { ($0.id, $0) })
        result.packsDropped = live.keys.filter { wanted[$0] == nil }.sorted()
        result.packsAdded = wanted.keys.filter { live[$0] == nil }.sorted()
        result.packsCorrected = live.compactMap { id, copies in
            guard let pack = wanted[id] else { return nil }
            return copies.allSatisfy { Self.describesSame($0, pack) } ? nil : id
        }.sorted()
        result.wasComplete = files.unreadable.isEmpty && result.packsDropped.isEmpty && result.packsAdded.isEmpty
            && result.packsCorrected.isEmpty
        if result.wasComplete { return result }
        result.supersededFiles = files.all
        result.indexFiles = max(1, (packs.count + Self.packsPerIndexFile - 1) / Self.packsPerIndexFile)
        if dryRun { return result }
        if let lock = locked?.lock {
            // Silent that long, the lock may have looked dead to a prune, which then ran.
            let quiet = lock.longestSilence
            if quiet > timing.staleAfter - timing.refreshInterval { throw RepairError.lockStale(seconds: Int(quiet)) }
        }

        var start = 0
        repeat {
            let end = min(start + Self.packsPerIndexFile, packs.count)
            let last = end == packs.count
            let file = IndexFile(supersedes: last ? files.all : [], packs: Array(packs[start..<end]))
            result.writtenFiles.append(IndexID(raw: try repository.saveFile(.index, plaintext: file.encoded())))
            start = end
        } while start < packs.count
        for id in files.all {
            try repository.backend.delete(FileName(.index, id.hex))
        }
        return result
    }

    /// The blobs of `described` (a pack as the old index gives it) that decode intact from
    /// the pack as it is now, with its present size; `nil` when none does or the pack is
    /// gone. The whole pack is read: this is for the few whose header cannot be read.
    ///
    /// - Throws: storage errors other than a missing pack.
    func salvage(_ described: IndexedPack) throws -> IndexedPack? {
        var intact: [PackEntry] = []
        let size = try PackReader.forEachIntactBlob(of: described, entries: described.entries, repository: repository,
                                                    damaged: { _, _ in }) { entry, _ in intact.append(entry) }
        guard let size, !intact.isEmpty else { return nil }
        return IndexedPack(id: described.id, salt: described.salt, size: size, entries: intact)
    }

    /// Whether two descriptions of a pack agree (entries in any order).
    static func describesSame(_ a: IndexedPack, _ b: IndexedPack) -> Bool {
        a.id == b.id && a.salt == b.salt && a.size == b.size && PackVerifier.compare(header: a.entries, index: b.entries) == nil
    }
}
