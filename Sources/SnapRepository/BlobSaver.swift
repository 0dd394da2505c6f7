import CPosix
import Dispatch
import SnapCompression
import SnapCore
import SnapCrypto
import SnapStorage
import Synchronization

/// Writes new blobs into packs, uploads full packs, and writes index files for them.
///
/// `save` may be called from several threads at once: compression and encryption run on the
/// caller's thread, and full packs are uploaded on threads of their own, so that compression
/// goes on while storage is busy (an fsync, a network round trip).
///
/// Each concurrent `save` of data fills a pack of its own (an idle open data pack, or a new
/// one, up to `openDataPacks`; beyond that it waits for one), so no lock is held while a blob
/// is sealed and written. At `finish` the partly filled data packs are merged while they fit
/// in one (`merged`), so a backup ends with as few small packs as one writer would leave. Trees, small and read again by every later
/// command, go into one open pack at a time (their saves take turns), so that a snapshot's
/// trees stay in few packs and are read with few requests.
///
/// Packs are assembled in staged files, not in memory. At most `uploadThreads` packs upload
/// and one more waits; `save` blocks beyond that, which bounds
/// the staged bytes (and the memory of a backend that uploads from memory). Ordering (FORMAT.md, "Write order"): an index file only names packs whose
/// upload has completed; `finish` returns only once every pack and index file is written.
public final class BlobSaver: Sendable {
    /// Counts for the backup summary.
    public struct Statistics: Sendable {
        public var blobs = 0
        public var dataBlobs = 0
        public var rawBytes = 0
        public var storedBytes = 0
        public var packs = 0
        public var indexFiles = 0
    }

    private struct State {
        /// Open packs no `save` is using, the last returned on top (so that saves that do not
        /// overlap keep filling one pack).
        var idle: [BlobType: [PackWriter]] = [:]
        var inFlight: Set<BlobID> = []
        var unindexed: [IndexedPack] = []
        var statistics = Statistics()
    }

    private let repository: Repository
    private let level: Int32
    private let state = Mutex<UncheckedBox<State>>(UncheckedBox(State()))
    /// Held by a `save` of a tree from taking the open tree pack until giving it back.
    private let treeTurn = Mutex<Void>(())
    /// One permit per data pack that may be open at once, taken while a `save` fills one.
    private let dataPackPermits: DispatchSemaphore
    private let compressors = Mutex<[UncheckedBox<ZstdCompressor>]>([])
    /// Write an index file after this many packs, or packs holding this many blobs, so that
    /// a crash re-reads few pack headers and the entries waiting for an index file stay few
    /// (they are also in the in-memory index).
    private let packsPerIndex: Int
    private let blobsPerIndex: Int
    private let uploaders: WorkerPool<Void>
    private let uploadFailure = Mutex<(any Error)?>(nil)
    /// Compress and count, but write nothing (`backup --dry-run`): `storedBytes` is then
    /// what the blobs would take in packs, without the packs' headers and padding.
    private let dryRun: Bool

    /// - Parameter openDataPacks: how many data packs saves may fill at once. More lets more
    ///   threads seal and write in parallel; each one left partly filled at the end is a
    ///   small pack (one more request, and work for a later prune). A quarter of the CPUs,
    ///   at least 2: sealing and writing is about a quarter of a backup's CPU time.
    public init(repository: Repository, compressionLevel: Int? = nil, packsPerIndex: Int = 64, blobsPerIndex: Int = 50_000,
                uploadThreads: Int = 2, openDataPacks: Int = max(2, Processors.workers / 4), dryRun: Bool = false) {
        self.repository = repository
        self.dryRun = dryRun
        level = Int32(compressionLevel ?? repository.config.compression.level)
        self.packsPerIndex = packsPerIndex
        self.blobsPerIndex = blobsPerIndex
        uploaders = WorkerPool(threads: uploadThreads, capacity: 1, label: "snap.pack-upload") { () }
        dataPackPermits = DispatchSemaphore(value: max(1, openDataPacks))
    }

    deinit { uploaders.release() }

    /// Claims the right to store blob `id`: `true` when it is in no pack and no other
    /// caller is storing it, in which case the caller must follow with `save`.
    public func reserve(_ id: BlobID) -> Bool {
        if repository.index.contains(id) { return false }
        return state.withLock { $0.value.inFlight.insert(id).inserted }
    }

    /// Whether blob `id` is in the repository's index or reserved here and still being
    /// packed: either way it is stored once `finish` returns without an error.
    public func isStoredOrReserved(_ id: BlobID) -> Bool {
        repository.index.contains(id) || state.withLock { $0.value.inFlight.contains(id) }
    }

    /// Compresses, encrypts and packs a blob reserved with `reserve`.
    public func save(_ type: BlobType, id: BlobID, plaintext: UnsafeRawBufferPointer) throws {
        let compressor = try checkoutCompressor()
        var compressed: [UInt8] = []
        let useCompressed = try compressor.value.compress(plaintext, appendingTo: &compressed)
        compressors.withLock { $0.append(compressor) }
        if dryRun {
            state.withLock { box in
                box.value.statistics.blobs += 1
                if type == .data { box.value.statistics.dataBlobs += 1 }
                box.value.statistics.rawBytes += plaintext.count
                box.value.statistics.storedBytes += (useCompressed ? compressed.count : plaintext.count) + AESGCM.nonceLength + AESGCM.tagLength
            }
            return
        }

        let body = useCompressed ? compressed : nil
        let full: UncheckedBox<PackWriter>?
        if type == .tree {
            full = try treeTurn.withLock { _ in try fill(type, id: id, body: body, plaintext: plaintext) }
        } else {
            dataPackPermits.wait()
            defer { dataPackPermits.signal() }  // at the end of this block: before a full pack waits for an uploader
            full = try fill(type, id: id, body: body, plaintext: plaintext)
        }
        if let full { try enqueue(full) }
    }

    /// Seals a blob (its compressed `body`, or `plaintext` when compression did not pay) into
    /// an idle open pack of its type, or a new one; returns the pack once it is full, and
    /// gives it back to the idle ones otherwise.
    private func fill(_ type: BlobType, id: BlobID, body compressed: [UInt8]?,
                      plaintext: UnsafeRawBufferPointer) throws -> UncheckedBox<PackWriter>? {
        let idle = state.withLock { box in box.value.idle[type]?.popLast().map(UncheckedBox.init) }
        let writer = try idle ?? UncheckedBox(PackWriter(type: type, keys: repository.keys, file: repository.backend.makeStagedFile()))
        // A failed add poisons the writer (its `finish` throws), so it goes back all the same:
        // `finish` then fails the command instead of leaving a reserved blob unwritten.
        let added = Result<Void, any Error>(catching: {
            if let compressed {
                try compressed.withUnsafeBytes { try writer.value.add(id: id, body: $0, rawLength: plaintext.count) }
            } else {
                try writer.value.add(id: id, body: plaintext, rawLength: plaintext.count)
            }
        })
        let full: UncheckedBox<PackWriter>? = state.withLock { box in
            if case .success = added {
                box.value.statistics.blobs += 1
                if type == .data { box.value.statistics.dataBlobs += 1 }
                box.value.statistics.rawBytes += plaintext.count
            }
            if case .success = added, writer.value.size >= repository.config.packSize { return writer }
            box.value.idle[type, default: []].append(writer.value)
            return nil
        }
        try added.get()
        return full
    }

    /// Convenience for `save` with an array.
    public func save(_ type: BlobType, id: BlobID, plaintext: [UInt8]) throws {
        try plaintext.withUnsafeBytes { try save(type, id: id, plaintext: $0) }
    }

    /// Uploads the packs still open and writes an index file for every pack not yet in one.
    ///
    /// - Returns: what was stored.
    public func finish() throws -> Statistics {
        if dryRun { return state.withLock { $0.value.statistics } }
        let open = state.withLock { box -> UncheckedBox<[BlobType: [PackWriter]]> in
            defer { box.value.idle = [:] }
            return UncheckedBox(box.value.idle)
        }
        for type in open.value.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            for writer in try Self.merged(open.value[type] ?? [], packSize: repository.config.packSize) {
                try enqueue(UncheckedBox(writer))
            }
        }
        uploaders.close()
        try rethrowUploadFailure()
        try writeIndex(force: true)
        return state.withLock { $0.value.statistics }
    }

    /// Writes an index file for the packs uploaded so far that no index file names yet, for a
    /// command that stops before `finish` (interrupted): the next backup then reuses them.
    /// Packs still uploading are left out (an index names only stored packs).
    public func indexUploadedPacks() throws {
        if !dryRun { try writeIndex(force: true) }
    }

    /// Moves the blobs of the smallest of the partly filled `writers` into the largest while
    /// they fit in one pack, so that saves that filled packs side by side leave as few small
    /// packs as one writer would. The blobs are decrypted from the dropped pack's staged file
    /// and sealed again at their new offsets.
    static func merged(_ writers: [PackWriter], packSize: Int) throws -> [PackWriter] {
        var sorted = writers.sorted { $0.size > $1.size }
        guard let target = sorted.first else { return [] }
        while sorted.count > 1, let smallest = sorted.last, target.size + smallest.size <= packSize {
            try smallest.forEachBody { entry, body in try target.add(id: entry.id, body: body, rawLength: Int(entry.rawLength)) }
            sorted.removeLast()
        }
        return sorted
    }

    /// Hands a full pack to an upload thread. Throws the first failure of an earlier upload.
    private func enqueue(_ writer: UncheckedBox<PackWriter>) throws {
        try rethrowUploadFailure()
        uploaders.submit { [self] _ in
            do { try upload(writer.value) } catch { uploadFailure.withLock { if $0 == nil { $0 = error } } }
        }
    }

    private func rethrowUploadFailure() throws {
        if let error = uploadFailure.withLock({ $0 }) { throw error }
    }

    private func upload(_ writer: PackWriter) throws {
        let pack = try writer.finish(padding: Int.random(in: 0..<4096))
        let file = FileName(.data, pack.id.hex)
        // Packs of trees are read again by the next backup, ls and restore: a cache keeps them.
        if writer.type == .tree {
            try repository.backend.writeMetadata(file, staged: pack.file)
        } else {
            try repository.backend.write(file, staged: pack.file)
        }
        let indexed = IndexedPack(id: pack.id, salt: pack.salt, size: pack.file.size, entries: pack.entries)
        repository.index.add(indexed)
        state.withLock { box in
            box.value.unindexed.append(indexed)
            box.value.statistics.packs += 1
            box.value.statistics.storedBytes += pack.file.size
            for e in pack.entries { box.value.inFlight.remove(e.id) }
        }
        try writeIndex(force: false)
        // A pack's worth of chunk copies and compressed blobs went through malloc, whose
        // arenas keep freed pages: give them back (about 2 MiB of a first backup's peak).
        _ = malloc_trim(0)
    }

    private func writeIndex(force: Bool) throws {
        let packs: [IndexedPack] = state.withLock { box in
            let unindexed = box.value.unindexed
            let due = unindexed.count >= packsPerIndex || unindexed.reduce(0) { $0 + $1.entries.count } >= blobsPerIndex
            guard force ? !unindexed.isEmpty : due else { return [] }
            defer { box.value.unindexed = [] }
            return box.value.unindexed
        }
        guard !packs.isEmpty else { return }
        _ = try repository.saveFile(.index, plaintext: IndexFile(packs: packs).encoded())
        state.withLock { $0.value.statistics.indexFiles += 1 }
    }

    private func checkoutCompressor() throws -> UncheckedBox<ZstdCompressor> {
        if let c = compressors.withLock({ $0.popLast() }) { return c }
        return UncheckedBox(try ZstdCompressor(level: level))
    }
}

/// Carries a non-Sendable value that is only ever touched by one thread at a time
/// (inside a `Mutex`, or checked out of a pool by one caller).
struct UncheckedBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
