import SnapCore
import SnapRepository
import SnapStorage

/// Removes data that no snapshot uses, without ever blocking backups
/// (FORMAT.md, "Locks and deletion marks").
///
/// Phase 1 copies used blobs out of wasteful packs and records every pack without a used
/// blob in a deletion mark. Marked packs stay indexed, so every snapshot stays readable,
/// but backups no longer deduplicate against them. Phase 2 deletes the packs of a mark
/// only once no backup that started before the mark (allowing for clock skew) is still
/// alive, and only those that no snapshot uses (checked after the lock check); it first
/// rewrites the index without them, then deletes them.
public final class Pruner {
    private let repository: Repository
    private let options: PruneOptions
    private let report: (String) -> Void
    let progress: TaskProgress

    public init(repository: Repository, options: PruneOptions, progress: TaskProgress = TaskProgress(),
                report: @escaping (String) -> Void = { _ in }) {
        self.progress = progress
        self.repository = repository
        self.options = options
        self.report = report
    }

    public func run() throws -> PruneResult {
        var result = PruneResult()
        let locked = options.dryRun ? nil : try RepositoryLock.withScan(kind: .prune, repository: repository,
                                                                         hostname: options.hostname, timing: options.timing)
        let lock = locked?.lock
        defer { lock?.release() }
        let marks = try checkLocks(try locked?.scan ?? Coordination.scan(repository, times: true),
                                   now: lock?.storageNow ?? WallClock.now, measured: lock?.clockOffset != nil)

        // What is used.
        progress.start("finding the blobs snapshots use")
        var reachable = Reachability(index: repository.index)
        try reachable.add(snapshotsOf: repository, ignoring: options.dryRun ? options.assumeForgotten : [], report: report)
        result.snapshots = reachable.snapshots.count
        result.reachableBlobs = reachable.blobs.count

        // Phase 1 in a function of its own, so that its picture of the index is gone before
        // phase 2 loads a fresh one.
        guard let current = try condemn(marks: marks, reachable: reachable, result: &result), let lock else { return result }

        // Phase 2.
        progress.start("deleting condemned packs")
        try deleteSafely(marks: current, reachable: &reachable, lock: lock, result: &result)
        return result
    }

    /// Phase 1: copies used blobs out of packs being repacked, indexes adopted packs, and
    /// marks the packs to delete; returns the marks, or `nil` for a dry run.
    private func condemn(marks: [CoordinationFile], reachable: Reachability, result: inout PruneResult) throws -> [CoordinationFile]? {
        // What is stored: packs live index files name, and packs no index names (by their
        // headers). The index files are read pack by pack, never all at once.
        let index = try IndexState.load(from: repository)
        let stored = try storedPacks()
        var plan = PackClassification(used: reachable.blobs, options: options)
        var packCount = 0
        try index.forEachPack(in: repository) { pack in
            guard stored[pack.id] != nil else { return }
            plan.add(pack)
            packCount += 1
        }
        var unindexed: [IndexedPack] = []
        for id in stored.keys.filter({ index.packNames[$0] == nil }).sorted() {
            guard let size = stored[id], let header = try? PackFormat.readHeader(of: id, size: size, from: repository.backend, keys: repository.keys) else {
                continue  // unreadable: still being written, or damaged (check reports it)
            }
            let pack = IndexedPack(id: id, salt: header.salt, size: size, entries: header.entries)
            unindexed.append(pack)
            plan.add(pack)
            packCount += 1
        }
        plan.finish()
        if let example = plan.missing.first { throw PruneError.blobsMissing(count: plan.missing.count, example: example.short) }
        for id in options.rewrite.subtracting(plan.rewriteMet).sorted() {
            result.packsNotRewritten.append(id)
            report("pack \(id.short) is not rewritten: " + (stored[id] == nil
                ? "there is no such pack"
                : "no index names it and its header cannot be read, so nothing can use it; it can be deleted by hand"))
        }

        let marked = Set(marks.flatMap { $0.record.packs ?? [] })
        let condemned = plan.condemn + plan.repack.map { PackClassification.PackSize(id: $0.pack.id, size: $0.pack.size) }
        let newlyCondemned = condemned.filter { !marked.contains($0.id) }
        let kept = Set(plan.keep)
        let keptAgain = kept.intersection(marked)
        let adopted = unindexed.filter { kept.contains($0.id) && !marked.contains($0.id) }
        result.packs = packCount
        result.packsKept = plan.keep.count
        result.packsRepacked = plan.repack.count
        result.blobsRepacked = plan.repack.reduce(0) { $0 + $1.used.count }
        result.bytesRepacked = plan.repack.reduce(0) { $0 + $1.pack.size }
        result.packsCondemned = newlyCondemned.count
        result.bytesCondemned = newlyCondemned.reduce(0) { $0 + $1.size }
        result.packsAdopted = adopted.count
        if options.dryRun { return nil }

        let saver = BlobSaver(repository: repository)
        progress.start("repacking", total: plan.repack.count, totalBytes: UInt64(result.bytesRepacked))
        for (pack, used) in plan.repack {
            let save = { (entry: PackEntry, plaintext: [UInt8]) in try saver.save(entry.type, id: entry.id, plaintext: plaintext) }
            if options.rewrite.contains(pack.id) {
                try PackReader.forEachIntactBlob(of: pack, entries: used, repository: repository, damaged: { entry, reason in
                    result.blobsDamaged += 1
                    report("pack \(pack.id.short): blob \(entry.id.short) is damaged and was not copied: \(reason)")
                }, save)
            } else {
                try PackReader.forEachBlob(of: pack, entries: used, repository: repository, save)
            }
            progress.step(bytes: UInt64(pack.size))
        }
        let written = try saver.finish()
        result.indexFilesWritten += written.indexFiles
        result.packsWritten = written.packs
        result.bytesWritten = written.storedBytes
        if !adopted.isEmpty {
            _ = try repository.saveFile(.index, plaintext: IndexFile(packs: adopted).encoded())
            result.indexFilesWritten += 1
        }
        let current = try updateMarks(marks, adding: newlyCondemned.map(\.id), keeping: keptAgain.union(marked.subtracting(stored.keys)))
        result.packsResurrected += keptAgain.count
        return current
    }

    /// Refuses to run beside another live prune (or `repair index`), removes dead locks,
    /// reports files that cannot be read (kept, and taken for live locks), and returns the
    /// deletion marks.
    private func checkLocks(_ coordination: CoordinationScan, now: Timestamp, measured: Bool) throws -> [CoordinationFile] {
        let alive = { (f: CoordinationFile) in self.options.timing.isAlive(f, now: now, measured: measured, localHost: self.options.hostname) }
        if let other = coordination.otherPruneLock(now: now, measured: measured, localHost: options.hostname, timing: options.timing) {
            throw PruneError.anotherPruneRunning(host: other.record.hostname, pid: other.record.pid)
        }
        for file in coordination.unreadable {
            report("\(file): taken for a running backup's lock, so no condemned pack is deleted; "
                   + "if no snap command runs on any host, remove it with 'snap unlock --remove-all'")
        }
        // Locks of dead processes block nothing; removing them keeps locks/ readable.
        for dead in coordination.files where !options.dryRun && dead.record.kind != .deletion && !alive(dead) {
            try? Coordination.remove(dead.id, in: repository)
        }
        return coordination.marks
    }

    private func storedPacks() throws -> [PackID: Int] {
        Dictionary(try repository.backend.list(.data).compactMap { info in PackID(hex: info.file.name).map { ($0, info.size) } },
                   uniquingKeysWith: { a, _ in a })
    }

    /// Writes a mark for newly condemned packs, and rewrites older marks without the packs
    /// in `keeping` (used again, or gone), keeping each mark's original time and waiting list.
    /// Then gives every mark without a waiting list one (`settle`).
    private func updateMarks(_ marks: [CoordinationFile], adding: [PackID], keeping: Set<PackID>) throws -> [CoordinationFile] {
        var result: [CoordinationFile] = []
        for mark in marks {
            let packs = mark.record.packs ?? []
            let remaining = packs.filter { !keeping.contains($0) }
            if remaining.count == packs.count { result.append(mark); continue }
            if !remaining.isEmpty {
                var record = mark.record
                record.packs = remaining
                result.append(CoordinationFile(id: try Coordination.write(record, in: repository), record: record))
            }
            try Coordination.remove(mark.id, in: repository)
        }
        if !adding.isEmpty {
            let now = WallClock.nowText
            let record = CoordinationRecord(kind: .deletion, hostname: options.hostname, pid: getpidValue(),
                                            created: now, refreshed: now, packs: adding)
            result.append(CoordinationFile(id: try Coordination.write(record, in: repository), record: record))
        }
        return try settle(result)
    }

    /// Gives each mark without one its waiting list: the backups whose locks exist now. Every
    /// backup that may have loaded the index before the mark existed wrote its lock before
    /// that, and a live lock always has a file (a refresh writes the new one first), so it is
    /// listed here; backups that start later read the mark and never use its packs. When a
    /// file in `locks/` cannot be read the list would be incomplete: the mark stays unsettled,
    /// and unsettled marks are never eligible.
    private func settle(_ marks: [CoordinationFile]) throws -> [CoordinationFile] {
        guard marks.contains(where: { $0.record.waitFor == nil }) else { return marks }
        let coordination = try Coordination.scan(repository)
        guard coordination.unreadable.isEmpty else { return marks }
        let holders = Set(coordination.files.filter { $0.record.kind == .backup }.map(\.record.holder))
            .sorted { ($0.hostname, $0.pid, $0.created) < ($1.hostname, $1.pid, $1.created) }
        return try marks.map { mark in
            guard mark.record.waitFor == nil else { return mark }
            var record = mark.record
            record.waitFor = holders
            let settled = CoordinationFile(id: try Coordination.write(record, in: repository), record: record)
            try Coordination.remove(mark.id, in: repository)
            return settled
        }
    }

    /// Phase 2: deletes the unused packs of every mark no running backup may depend on;
    /// marks that are not yet eligible stay for a later prune.
    private func deleteSafely(marks: [CoordinationFile], reachable: inout Reachability, lock: RepositoryLock,
                              result: inout PruneResult) throws {
        let coordination = try Coordination.scan(repository, times: true)
        let at = lock.storageNow
        let alive = Set(coordination.files.filter {
            $0.record.kind == .backup && options.timing.isAlive($0, now: at, measured: lock.clockOffset != nil, localHost: options.hostname)
        }.map(\.record.holder))
        // A file that cannot be read may be the lock of a backup any mark waits for.
        let isEligible = { (m: CoordinationFile) in
            coordination.unreadable.isEmpty && m.record.waitFor.map { !$0.contains(where: alive.contains) } == true
        }
        let eligible = marks.filter(isEligible)
        let waiting = marks.filter { !isEligible($0) }
        result.packsDeferred = waiting.reduce(0) { $0 + ($1.record.packs?.count ?? 0) }
        if !waiting.isEmpty {
            let why = coordination.unreadable.isEmpty ? "running backups finish" : "the unreadable files in locks/ are readable or removed"
            report("\(result.packsDeferred) condemned packs wait until \(why); a later prune deletes them")
        }
        guard !eligible.isEmpty else { return }

        // Read after the lock check: snapshots and index files of backups that finished meanwhile count.
        try reachable.add(snapshotsOf: repository) { _ in }
        let live = try IndexState.load(from: repository)
        let allMarked = Set(marks.flatMap { $0.record.packs ?? [] })
        let stored = try storedPacks()
        let eligibleIDs = Set(eligible.flatMap { $0.record.packs ?? [] })

        // The used blobs the eligible packs hold: normally none, as they were unused when
        // marked. Only packs holding some keep their entries (the index files are read pack by
        // pack; packs no live index names are read by their headers).
        var usedInCandidates: Set<BlobID> = []
        var holdingUsed: [PackID: IndexedPack] = [:]
        func inspect(_ pack: IndexedPack) {
            let used = pack.entries.filter { reachable.blobs.contains($0.id) }
            guard !used.isEmpty else { return }
            usedInCandidates.formUnion(used.map(\.id))
            holdingUsed[pack.id] = pack
        }
        let candidates = eligibleIDs.compactMap { id in stored[id].map { (id: id, size: $0) } }  // the rest are deleted already
        try live.forEachPack(in: repository) { pack in if eligibleIDs.contains(pack.id) && stored[pack.id] != nil { inspect(pack) } }
        for (id, size) in candidates where live.packNames[id] == nil {
            if let header = try? PackFormat.readHeader(of: id, size: size, from: repository.backend, keys: repository.keys) {
                inspect(IndexedPack(id: id, salt: header.salt, size: size, entries: header.entries))
            }
        }
        // Of those, the ones an unmarked pack holds too.
        var available: Set<BlobID> = []
        if !usedInCandidates.isEmpty {
            try live.forEachPack(in: repository) { pack in
                guard !allMarked.contains(pack.id) else { return }
                for entry in pack.entries where usedInCandidates.contains(entry.id) { available.insert(entry.id) }
            }
        }

        var doomed: [PackID: Int] = [:]
        var resurrect: [IndexedPack] = []
        for (id, size) in candidates {
            if let pack = holdingUsed[id], pack.entries.contains(where: { usedInCandidates.contains($0.id) && !available.contains($0.id) }) {
                if live.packNames[id] == nil { resurrect.append(pack) }  // used after all, and unindexed: index it
                result.packsResurrected += 1
                continue
            }
            doomed[id] = size
        }
        if !resurrect.isEmpty {
            _ = try repository.saveFile(.index, plaintext: IndexFile(packs: resurrect).encoded())
            result.indexFilesWritten += 1
        }
        if !doomed.isEmpty {
            // First no index names the packs, then they go: readers never meet a named, missing pack.
            result.indexFilesWritten += try live.rewrite(dropping: Set(doomed.keys), in: repository)
            for id in live.allFileIDs {
                try repository.backend.delete(FileName(.index, id.hex))
                result.indexFilesDeleted += 1
            }
            for (id, size) in doomed.sorted(by: { $0.key < $1.key }) {
                try repository.backend.delete(FileName(.data, id.hex))
                result.packsDeleted += 1
                result.bytesDeleted += size
            }
        }
        for mark in eligible { try Coordination.remove(mark.id, in: repository) }
    }
}
