import SnapCore
import SnapRepository
import SnapStorage

/// Removes data that no snapshot uses, without ever blocking backups
/// (FORMAT.md, "Locks and deletion marks").
///
/// Phase 1 rewrites the index without the condemned packs (unused ones, and those whose
/// used blobs it copies into new packs) and records them in a deletion mark. Phase 2
/// deletes a marked pack only when no backup that started before the mark (allowing for
/// clock skew) is still alive, no snapshot uses any of its blobs (checked after the lock
/// check, so snapshots of backups that finished meanwhile count), and no index file names
/// it. Otherwise the pack waits for a later prune, or is kept after all.
public final class Pruner {
    private let repository: Repository
    private let options: PruneOptions
    private let report: (String) -> Void

    public init(repository: Repository, options: PruneOptions, report: @escaping (String) -> Void = { _ in }) {
        self.repository = repository
        self.options = options
        self.report = report
    }

    public func run() throws -> PruneResult {
        var result = PruneResult()
        let lock = options.dryRun ? nil : try RepositoryLock(kind: .prune, repository: repository, hostname: options.hostname, timing: options.timing)
        defer { lock?.release() }
        let coordination = try Coordination.all(in: repository)
        let now = WallClock.now
        if let other = coordination.first(where: { $0.record.kind == .prune && options.timing.isAlive($0.record, now: now)
                                                  && !($0.record.pid == getpidValue() && $0.record.hostname == options.hostname) }) {
            throw PruneError.anotherPruneRunning(host: other.record.hostname, pid: other.record.pid)
        }
        let marks = coordination.filter { $0.record.kind == .deletion }
        let marked = Set(marks.flatMap { $0.record.packs ?? [] })

        // What is used.
        try repository.loadIndex { id, error in self.report("index \(id.short) skipped: \(error)") }
        var reachable = Reachability()
        try reachable.add(snapshotsOf: repository)
        result.snapshots = reachable.snapshots.count
        result.reachableBlobs = reachable.blobs.count

        // What is stored: live index files, and packs no index names (with their headers).
        let index = try IndexState.load(from: repository)
        let stored = Dictionary(try repository.backend.list(.data).compactMap { info in PackID(hex: info.file.name).map { ($0, info.size) } },
                                uniquingKeysWith: { a, _ in a })
        var packs = index.packs.filter { stored[$0.id] != nil }
        let orphans = stored.keys.filter { index.packNames[$0] == nil && !marked.contains($0) }.sorted()
        for id in orphans {
            guard let size = stored[id], let header = try? PackFormat.readHeader(of: id, size: size, from: repository.backend, keys: repository.keys) else {
                continue  // unreadable: still being written, or damaged (check reports it)
            }
            packs.append(IndexedPack(id: id, salt: header.salt, size: size, entries: header.entries))
        }
        // A marked pack that a live index names again is classified afresh: if still unused,
        // it goes into this run's mark, and waits from this run's time on.
        let plan = PackClassification(packs: packs, used: reachable.blobs, options: options)
        if let example = plan.missing.first { throw PruneError.blobsMissing(count: plan.missing.count, example: example.short) }
        result.packs = packs.count
        result.packsKept = plan.keep.count
        result.packsRepacked = plan.repack.count
        result.blobsRepacked = plan.repack.reduce(0) { $0 + $1.used.count }
        result.bytesRepacked = plan.repack.reduce(0) { $0 + $1.pack.size }
        let condemned = plan.condemn + plan.repack.map(\.pack)
        result.packsCondemned = condemned.count
        result.bytesCondemned = condemned.reduce(0) { $0 + $1.size }
        result.packsAdopted = plan.keep.filter { index.packNames[$0.id] == nil }.count
        if options.dryRun { return result }

        // Phase 1: copy used blobs out of packs being repacked, rewrite the index, mark.
        let saver = BlobSaver(repository: repository)
        for (pack, used) in plan.repack {
            for (entry, plaintext) in try PackReader.blobs(of: pack, entries: used, repository: repository) {
                try saver.save(entry.type, id: entry.id, plaintext: plaintext)
            }
        }
        let saved = try saver.finish()
        result.indexFilesWritten += saved.indexFiles
        result.indexFilesWritten += try IndexState.rewrite(keeping: plan.keep, superseding: index.fileIDs, in: repository)
        var markID: RawID?
        if !condemned.isEmpty {
            let text = WallClock.nowText
            markID = try Coordination.write(CoordinationRecord(kind: .deletion, hostname: options.hostname, pid: getpidValue(),
                                                               created: text, refreshed: text, packs: condemned.map(\.id)), in: repository)
        }
        for id in index.fileIDs {
            do { try repository.backend.delete(FileName(.index, id.hex)); result.indexFilesDeleted += 1 } catch StorageError.notFound {}
        }

        // Phase 2: delete what has become safe to delete.
        var allMarks = marks
        if let markID, let record = try Coordination.all(in: repository).first(where: { $0.id == markID }) { allMarks.append(record) }
        try deleteCondemned(marks: allMarks, reachable: &reachable, result: &result)
        return result
    }

    private func deleteCondemned(marks: [CoordinationFile], reachable: inout Reachability, result: inout PruneResult) throws {
        let now = WallClock.now
        let backups = try Coordination.all(in: repository).filter { $0.record.kind == .backup && options.timing.isAlive($0.record, now: now) }
        let eligible = marks.filter { mark in
            !backups.contains { Double($0.record.createdTime.seconds - mark.record.createdTime.seconds) <= options.timing.clockSkew }
        }
        let waiting = Set(marks.filter { m in !eligible.contains { $0.id == m.id } }.flatMap { $0.record.packs ?? [] })
        result.packsDeferred = waiting.count
        guard !eligible.isEmpty else { return }
        if !backups.isEmpty || !waiting.isEmpty { report("\(waiting.count) condemned packs wait until running backups finish") }

        // Checked after the locks: snapshots and index files written by backups that finished meanwhile.
        try repository.loadIndex { _, _ in }
        try reachable.add(snapshotsOf: repository)
        let live = try IndexState.load(from: repository)
        let named = live.packNames
        let available = Set(live.packs.flatMap { $0.entries.map(\.id) })
        var resurrect: [IndexedPack] = []
        for mark in eligible {
            for id in mark.record.packs ?? [] where !waiting.contains(id) {
                let file = FileName(.data, id.hex)
                guard let size = try? repository.backend.stat(file).size else { continue }  // already deleted
                if named[id] != nil { continue }  // an index names it again: a later prune condemns it afresh
                if let header = try? PackFormat.readHeader(of: id, size: size, from: repository.backend, keys: repository.keys),
                   header.entries.contains(where: { reachable.blobs.contains($0.id) && !available.contains($0.id) }) {
                    resurrect.append(IndexedPack(id: id, salt: header.salt, size: size, entries: header.entries))
                    continue
                }
                do { try repository.backend.delete(file) } catch StorageError.notFound { continue }
                result.packsDeleted += 1
                result.bytesDeleted += size
            }
        }
        if !resurrect.isEmpty {
            _ = try repository.saveFile(.index, plaintext: IndexFile(packs: resurrect).encoded())
            result.indexFilesWritten += 1
            result.packsResurrected = resurrect.count
        }
        for mark in eligible { try Coordination.remove(mark.id, in: repository) }
    }
}
