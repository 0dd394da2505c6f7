#if canImport(Glibc)
import Glibc
#endif
import SnapCore
import SnapRepository
import SnapStorage
import Synchronization

/// Writing files' content, pack by pack on worker threads (see `Restorer`).
extension Restorer {
    // MARK: Content

    struct BlobUse { let file: Int32; let offset: UInt64 }

    /// What a restore worker needs to know about one planned file.
    struct FileTarget: Sendable {
        let path: [UInt8]
        let snapshotPath: [UInt8]
        let node: Node
        let isWholeBlob: Bool
        /// Whether something was at `path` when the restore planned it (`EntryAction.replace`).
        let replacing: Bool
    }

    /// What writing a batch's content left, by plan index.
    struct ContentOutcome {
        /// Whole-blob files written and given their metadata.
        var finished: Set<Int> = []
        /// Whole-blob files whose only chunk is damaged in the repository.
        var damagedWhole: Set<Int> = []
        /// Files with damaged ranges (holes where the repository's blobs are damaged).
        var damaged: Set<Int> = []
        /// Files not written completely for reasons on the target's side (or because the
        /// restore stopped first).
        var unwritten: Set<Int> = []
    }

    /// What one pack's worker did.
    struct PackOutcome: Sendable {
        /// Blobs missing from the index or damaged in their pack.
        var failed: [(BlobID, String)] = []
        /// Packs that could not be read (or only in part), with why and the blobs lost.
        var unread: [PackID: UnreadPack] = [:]
        /// Whole-blob files written and given their metadata.
        var finished: [Int] = []
        /// Metadata problems of the whole-blob files finished.
        var problems: [String] = []
        /// One plan index per blob use written.
        var written: [Int32] = []
        /// Files whose write failed on the target's side.
        var unwritable: [(file: Int32, error: FileSystem.Failure)] = []

        /// Adds what another worker (or another read of the same pack) did.
        mutating func absorb(_ other: PackOutcome) {
            failed += other.failed
            for (pack, unread) in other.unread { self.unread[pack, default: unread.withoutBlobs].blobs += unread.blobs }
            finished += other.finished
            problems += other.problems
            written += other.written
            unwritable += other.unwritable
        }
    }

    /// Why the blobs of a pack could not be read: reported once for the pack, not per blob.
    struct UnreadPack: Sendable {
        /// What follows "pack ID": "is missing from the repository", "could not be read: …".
        let reason: String
        /// Whether the repository itself lacks the data (a missing or cut-short pack), as
        /// opposed to a storage error (no permission, a server that fails) that may pass.
        let isDamage: Bool
        var blobs: [BlobID] = []

        init(_ error: Error, blobs: [BlobID]) {
            switch error as? StorageError {
            case .notFound?:
                (reason, isDamage) = ("is missing from the repository", true)
            case let .invalidRange(_, _, size, _)?:
                (reason, isDamage) = ("is \(size) bytes, shorter than its index says", true)
            default:
                (reason, isDamage) = ("could not be read: \(error)", false)
            }
            self.blobs = blobs
        }

        private init(reason: String, isDamage: Bool) { (self.reason, self.isDamage) = (reason, isDamage) }
        var withoutBlobs: UnreadPack { UnreadPack(reason: reason, isDamage: isDamage) }
    }

    /// Writes every needed blob, pack by pack on `workers` threads, and sorts the batch's
    /// files by outcome: complete, damaged in the repository (kept, with the damaged ranges
    /// as holes), or not written completely on the target's side (to be removed).
    ///
    /// - Parameter tail: packs to read on past the blobs needed and keep for the next
    ///   batches (`RestoreSpool`); empty for the last batch.
    func writeContent(keeping tail: Set<PackID>) -> ContentOutcome {
        spool.startBatch()
        var uses: [BlobID: [BlobUse]] = [:]
        var byPack: [PackID: [BlobLocation]] = [:]
        var missing: [BlobID] = []
        /// Blob uses per file: complete when that many were written.
        var planned: [Int: Int] = [:]
        for (i, e) in plan.enumerated() where e.created && Self.readsContent(e) {
            var offset: UInt64 = 0
            for id in e.node.content {
                let location = repository.index.lookup(id)
                if uses[id] == nil {
                    if let location { byPack[location.pack, default: []].append(location) } else { missing.append(id) }
                }
                uses[id, default: []].append(BlobUse(file: Int32(i), offset: offset))
                planned[i, default: 0] += 1
                // Without an index entry the chunk's length is unknown, so later chunks
                // cannot be placed: the file is reported damaged from here on.
                guard let length = location?.entry.rawLength else { break }
                offset += UInt64(length)
            }
        }
        let limit = Self.stretchLimit(workers: options.workers)
        // A tail pack is read in one stretch, on up to `RestoreSpool.readOn` bytes past the
        // blobs needed (and from the pack's start, for one not kept whose needed blobs start
        // within that: a pack's blobs need not follow the walk, as in packs merged at the end
        // of a backup), and kept. Where that is more than `limit` bytes, its last stretch is
        // read on.
        let readOn = RestoreSpool.readOn
        let packs = byPack.flatMap { pack, blobs -> [PackStretch] in
            guard tail.contains(pack), let packEnd = self.repository.index.packSize(pack) else {
                return BlobStretches.split(blobs, limit: limit).map { PackStretch(pack: pack, blobs: $0, keep: nil) }
            }
            let sorted = blobs.sorted { $0.entry.offset < $1.entry.offset }
            guard let first = sorted.first, let last = sorted.last else { return [] }
            let needed = Int(first.entry.offset)..<Int(last.entry.offset + last.entry.length)
            let from = !self.spool.keeps(pack) && needed.lowerBound <= readOn ? 0 : needed.lowerBound
            let to = max(needed.upperBound, min(packEnd, needed.upperBound + readOn))
            if to - from <= limit { return [PackStretch(pack: pack, blobs: sorted, keep: from..<to)] }
            let stretches = BlobStretches.split(sorted, limit: limit)
            return stretches.enumerated().map { i, blobs in
                guard i == stretches.count - 1, let first = blobs.first else { return PackStretch(pack: pack, blobs: blobs, keep: nil) }
                return PackStretch(pack: pack, blobs: blobs, keep: Int(first.entry.offset)..<to)
            }
        }
        let files = plan.map { FileTarget(path: $0.target, snapshotPath: $0.snapshotPath, node: $0.node, isWholeBlob: $0.isWholeBlob,
                                          replacing: $0.replacing) }
        let outcomes = Mutex(PackOutcome(failed: missing.map { ($0, "is not in any index") }))
        let uses_ = uses
        let repository = self.repository
        let stop = stopSignal
        let spool = self.spool
        let progress = options.progress
        let creation = Creation(umask: umaskBits, groupMayBeInherited: groupMayBeInherited, metadata: metadata, root: targetRoot)
        ParallelWork.forEach(packs.count, workers: options.workers) { p in
            guard !stop.isRaised else { return }
            let outcome = Self.restorePack(packs[p], uses: uses_, files: files, repository: repository, spool: spool,
                                           creation: creation, stop: stop, progress: progress)
            outcomes.withLock { $0.absorb(outcome) }
        }
        let all = outcomes.withLock { $0 }
        for message in all.problems { record(message) }
        var damagedUses: [Int: Int] = [:]
        /// Records `blob` as lost; returns the snapshot paths of the files it belongs to.
        func lose(_ blob: BlobID, _ reason: String) -> [String] {
            let blobUses = uses[blob] ?? []
            for use in blobUses { damagedUses[Int(use.file), default: 0] += 1 }
            let files = Set(blobUses.map { PathBytes.display(plan[Int($0.file)].snapshotPath) }).sorted()
            result.damagedBlobs.append((blob, reason, files))
            return files
        }
        for (blob, reason) in all.failed.sorted(by: { $0.0 < $1.0 }) {
            let files = lose(blob, reason)
            warn("blob \(blob.short) \(reason) in the repository; affected: \(files.joined(separator: ", "))")
        }
        // One line per pack that could not be read, however many of its blobs were needed.
        for (pack, unread) in all.unread.sorted(by: { $0.key < $1.key }) {
            let reason = "pack \(pack.short) \(unread.reason)"
            var files = Set<String>()
            for blob in unread.blobs.sorted() { files.formUnion(lose(blob, reason)) }
            if !unread.isDamage { result.unreadablePacks.append(pack) }
            let blobs = unread.blobs.count == 1 ? "1 blob" : "\(unread.blobs.count) blobs"
            warn("\(reason); \(blobs) of it could not be restored, affected: \(files.sorted().joined(separator: ", "))")
        }
        var written: [Int: Int] = [:]
        for file in all.written { written[Int(file), default: 0] += 1 }
        var targetFailure: [Int: FileSystem.Failure] = [:]
        for (file, error) in all.unwritable where targetFailure[Int(file)] == nil { targetFailure[Int(file)] = error }

        var content = ContentOutcome(finished: Set(all.finished))
        for (i, count) in planned {
            let done = written[i] ?? 0
            if done == count { continue }
            if done + (damagedUses[i] ?? 0) == count && targetFailure[i] == nil {
                content.damaged.insert(i)
                if plan[i].isWholeBlob { content.damagedWhole.insert(i) }
                continue
            }
            content.unwritten.insert(i)
            // Listed in `result.unwritten`; told here unless the stop message stands for it.
            if let failure = targetFailure[i], !stopSignal.isRaised {
                warn("\(PathBytes.display(plan[i].snapshotPath)): "
                     + (failure.existingKept ? "cannot replace the file there: \(failure) (it is left as it was)"
                        : failure.creating ? Self.cannotCreate(failure.code, plan[i].node.type)
                        : "cannot write to the target: \(failure) (file removed)"))
            }
        }
        return content
    }

    /// How this restore creates files, for deciding which metadata calls are redundant.
    struct Creation: Sendable {
        let umask: mode_t
        let groupMayBeInherited: Bool
        let metadata: MetadataWriter
        /// Through which files are reached (`TargetRoot`); `nil` in a dry run.
        let root: TargetRoot?
    }

    /// The most one worker reads in one request: whole packs (16 MiB, and up to a largest
    /// chunk more) when few workers share the 64 MiB that restore spends on read buffers,
    /// 4 MiB at least. Each request costs a round trip and, on a cloud, money; a restore of
    /// a large tree on 2 workers reads a pack per request, as restic does.
    static func stretchLimit(workers: Int) -> Int {
        min(32 << 20, max(4 << 20, (64 << 20) / max(1, workers)))
    }

    /// One request's worth of a pack's needed blobs, in offset order.
    struct PackStretch: Sendable {
        let pack: PackID
        let blobs: [BlobLocation]
        /// Read this range of the pack (it holds the blobs), and keep it for later batches
        /// (`RestoreSpool`).
        let keep: Range<Int>?
    }

    /// Reads the needed span of one pack (from the spool when an earlier batch kept it)
    /// and writes its blobs; returns the blobs that failed in the repository, the uses
    /// written, the files that could not be written, the whole-blob files finished, and
    /// metadata problems. Returns early once `stop` is raised, by this worker or another.
    static func restorePack(_ stretch: PackStretch, uses: [BlobID: [BlobUse]], files: [FileTarget],
                            repository: Repository, spool: RestoreSpool, creation: Creation, stop: RestoreStopSignal,
                            progress: RestoreProgress? = nil) -> PackOutcome {
        var outcome = PackOutcome()
        let (pack, blobs) = (stretch.pack, stretch.blobs)
        guard let first = blobs.first, let last = blobs.last else { return outcome }
        let needed = Int(first.entry.offset)..<Int(last.entry.offset + last.entry.length)
        let file = FileName(.data, pack.hex)
        let span: [UInt8]
        var spanStart = needed.lowerBound
        do {
            if let kept = spool.read(pack, needed) {
                span = kept
            } else if let keep = stretch.keep, keep.lowerBound <= needed.lowerBound, needed.upperBound <= keep.upperBound,
                      spool.reserve(pack, keep.count) {
                if let read = try? repository.backend.read(file, range: keep), read.count == keep.count {
                    spool.keep(pack, at: keep.lowerBound, read)
                    span = read
                    spanStart = keep.lowerBound
                } else {
                    spool.cancel(keep.count)
                    // Only what is needed (a pack shorter than its index says, say).
                    span = try repository.backend.read(file, range: needed)
                }
            } else {
                span = try repository.backend.read(file, range: needed)
            }
        } catch {
            // A pack a prune repacked and deleted since the index was read: its blobs are in
            // the prune's new packs.
            if case StorageError.notFound? = error as? StorageError {
                var moved: [PackID: [BlobLocation]] = [:]
                var lost: [BlobID] = []
                for blob in blobs {
                    if let location = repository.relocate(blob.entry.id, missingFrom: pack) {
                        moved[location.pack, default: []].append(location)
                    } else {
                        lost.append(blob.entry.id)
                    }
                }
                for (to, locations) in moved.sorted(by: { $0.key < $1.key }) {
                    for part in BlobStretches.split(locations, limit: stretchLimit(workers: 1)) where !stop.isRaised {
                        outcome.absorb(restorePack(PackStretch(pack: to, blobs: part, keep: nil), uses: uses, files: files,
                                                   repository: repository, spool: spool, creation: creation, stop: stop,
                                                   progress: progress))
                    }
                }
                if !lost.isEmpty { outcome.unread[pack] = UnreadPack(error, blobs: lost) }
                return outcome
            }
            // A pack shorter than its index says (cut short) still holds the blobs before the
            // cut: read them one at a time, so that only those past it are lost.
            if blobs.count > 1, case StorageError.invalidRange? = error as? StorageError {
                for blob in blobs {
                    outcome.absorb(restorePack(PackStretch(pack: pack, blobs: [blob], keep: nil), uses: uses, files: files,
                                               repository: repository, spool: spool, creation: creation, stop: stop,
                                               progress: progress))
                    if stop.isRaised { break }
                }
                return outcome
            }
            outcome.unread[pack] = UnreadPack(error, blobs: blobs.map(\.entry.id))
            return outcome
        }
        let decoder: BlobDecoder
        do {
            decoder = try BlobDecoder(keys: repository.keys)
        } catch {
            outcome.failed = blobs.map { ($0.entry.id, "\(error)") }
            return outcome
        }
        func unwritable(_ file: Int32, _ error: FileSystem.Failure) {
            outcome.unwritable.append((file, error))
            if RestoreStop.stops(error.code) { stop.raise(code: error.code, path: files[Int(file)].path) }
        }
        BlobStretches.decodeEach(blobs, of: pack, span: span, at: spanStart, repository: repository, decoder: decoder) { b, decoded in
            if stop.isRaised { return false }
            let plaintext: [UInt8]
            switch decoded {
            case let .success(bytes): plaintext = bytes
            case let .failure(error):
                outcome.failed.append((b.entry.id, "is damaged: \(error)"))
                return true
            }
            for use in uses[b.entry.id] ?? [] {
                let file = files[Int(use.file)]
                if file.isWholeBlob {
                    switch writeWhole(plaintext, to: file, creation: creation) {
                    case .success(let messages):
                        progress?.wrote(plaintext.count)
                        outcome.finished.append(Int(use.file))
                        outcome.written.append(use.file)
                        outcome.problems += messages
                    case .failure(let error):
                        unwritable(use.file, error)
                    }
                } else if let error = write(plaintext, to: file.path, at: use.offset, creation: creation) {
                    unwritable(use.file, error)
                } else {
                    progress?.wrote(plaintext.count)
                    outcome.written.append(use.file)
                }
            }
            return true
        }
        return outcome
    }

    /// Creates a one-chunk file, writes it, and sets its metadata, all on one descriptor.
    /// Returns the metadata problems (the content is written), or the write error; a file
    /// that could not be written is removed again.
    static func writeWhole(_ data: [UInt8], to file: FileTarget, creation: Creation) -> Result<[String], FileSystem.Failure> {
        // Created with its final mode when the umask leaves it alone: no chmod afterwards.
        let mode = mode_t(file.node.mode)
        let modeIsFinal = mode & ~mode_t(0o777) == 0 && mode & creation.umask == 0
        return creation.root.withFolder(file.path, failing: { .failure(FileSystem.Failure(code: $0, creating: true)) }) { folder, name in
            let fd = createNew(in: folder, name, mode: modeIsFinal ? mode : 0o600, replacing: file.replacing)
            guard fd >= 0 else {
                let code = errno
                return .failure(FileSystem.Failure(code: code, existingKept: file.replacing && (try? FileSystem.lstat(file.path)) != nil,
                                                   creating: true))
            }
            var failure: FileSystem.Failure?
            switch writeSkippingZeros(data, fd: fd, at: 0) {
            case .failure(let error): failure = error
            case .success(let end):
                if end < data.count && ftruncate(fd, off_t(data.count)) != 0 { failure = FileSystem.Failure(code: errno) }
            }
            if let failure {
                close(fd)
                _ = PathBytes.withCString(name) { unlinkat(folder, $0, 0) }
                return .failure(failure)
            }
            defer { close(fd) }
            let created = MetadataWriter.NewFile(modeIsFinal: modeIsFinal, ownerIsOurs: !creation.groupMayBeInherited)
            // Everything is set through `fd`: the path is only what the writer would fall back to.
            return .success(PathBytes.withCString(file.path) {
                creation.metadata.apply(file.node, snapshotPath: file.snapshotPath, path: $0, fd: fd, created: created)
            })
        }
    }

    /// Writes `data` at `offset` of the file at `path` (already created at its full size).
    static func write(_ data: [UInt8], to path: [UInt8], at offset: UInt64, creation: Creation) -> FileSystem.Failure? {
        let fd = creation.root.withFolder(path, failing: { code -> Int32 in errno = code; return -1 }) { folder, name in
            PathBytes.withCString(name) { openat(folder, $0, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) }
        }
        guard fd >= 0 else { return FileSystem.Failure(code: errno) }
        defer { close(fd) }
        if case .failure(let error) = writeSkippingZeros(data, fd: fd, at: offset) { return error }
        return nil
    }

    /// Writes `data` at `offset`, skipping 4 KiB runs of zeros so that they stay holes.
    /// Returns the end of the last byte written, relative to `offset`.
    static func writeSkippingZeros(_ data: [UInt8], fd: Int32, at offset: UInt64) -> Result<Int, FileSystem.Failure> {
        data.withUnsafeBytes { all -> Result<Int, FileSystem.Failure> in
            let block = 4096
            func zeroBlock(at i: Int) -> Bool {
                isAllZero(UnsafeRawBufferPointer(rebasing: all[i..<min(i + block, all.count)]))
            }
            var i = 0
            var written = 0
            while i < all.count {
                while i < all.count && zeroBlock(at: i) { i += block }
                guard i < all.count else { break }
                var end = i
                while end < all.count && !zeroBlock(at: end) { end += block }
                end = min(end, all.count)
                var done = i
                while done < end {
                    let n = pwrite(fd, all.baseAddress! + done, end - done, off_t(offset) + off_t(done))  // non-empty range
                    if n < 0 {
                        if errno == EINTR { continue }
                        return .failure(FileSystem.Failure(code: errno))
                    }
                    done += n
                }
                written = end
                i = end
            }
            return .success(written)
        }
    }

    static func isAllZero(_ raw: UnsafeRawBufferPointer) -> Bool {
        let words = raw.count / 8
        var i = 0
        while i < words {
            if raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) != 0 { return false }
            i += 1
        }
        for j in (words * 8)..<raw.count where raw[j] != 0 { return false }
        return true
    }
}
