import SnapCore
import SnapRepository
import Synchronization

/// Loads tree blobs by whole packs, several packs at a time, and keeps them in a bounded
/// cache, so that walking a snapshot costs about one request per pack of trees rather than
/// one per folder (one request per folder took minutes against an object store).
///
/// A tree that is not cached is read with every other tree of its pack
/// (`Repository.loadSealedTrees(ofPack:)`: one request, or none when the metadata cache has a
/// copy); `prefetch` reads the packs of many trees at once, on up to `Options.workers`
/// threads (the backend's `--connections` limit caps them too). Packs larger than
/// `Repository.largestTreePackReadWhole`, packs that cannot be read whole, and trees a pack
/// did not yield are read one blob at a time with `Repository.loadBlob`, which gives the
/// precise error.
///
/// Trees are cached sealed, as their packs hold them, and decrypted, decompressed and
/// verified each time they are handed out: sealed they take less memory (1.8 times less in
/// the million-file benchmark, whose trees are mostly random blob IDs), the packs being read
/// are no longer decoded whole at once, and a tree that is never asked for is never decoded.
/// Callers use most trees once.
///
/// Memory: the sealed trees held stay below `Options.cacheBytes` (64 MiB by default, the
/// oldest dropped first), except that the trees of the packs read last are kept whole, plus
/// the packs being read (one per worker). A tree dropped and needed again costs one more
/// read of its pack.
/// Thread-safe.
public final class TreeLoader: Sendable {
    /// Limits of a loader.
    public struct Options: Sendable {
        /// Bytes of sealed trees kept at most.
        public var cacheBytes = 64 << 20
        /// Packs read at once by `prefetch`.
        public var workers = 5
        public init() {}
    }

    private struct State {
        var trees: [BlobID: SealedTree] = [:]
        /// Insertion order, for dropping the oldest; `head` is the first live position.
        var order: [BlobID] = []
        var head = 0
        var bytes = 0
        /// Packs that could not be read whole: their trees are read one at a time.
        var unusable: Set<PackID> = []
        /// Packs read whole, and how often (tests, statistics).
        var packsRead = 0
        /// Sealed trees opened (tests).
        var treesOpened = 0
    }

    private let repository: Repository
    private let options: Options
    private let state = Mutex(State())
    private let decoders: BlobDecoderPool

    public init(repository: Repository, options: Options = Options()) {
        self.repository = repository
        self.options = options
        decoders = BlobDecoderPool(keys: repository.keys)
    }

    /// The number of packs read whole so far.
    public var packsRead: Int { state.withLock { $0.packsRead } }

    /// The number of trees opened from sealed copies so far (each time one is handed out).
    public var treesOpened: Int { state.withLock { $0.treesOpened } }

    /// The decoded tree `id`.
    ///
    /// - Parameter keep: whether to keep it cached for another call; a caller that loads
    ///   each tree once (check) passes `false`, which frees its memory at once.
    /// - Throws: `EngineError.treeDamaged` when the blob does not decode as a tree; the
    ///   errors of `Repository.loadBlob` when it cannot be read.
    public func tree(_ id: BlobID, keep: Bool = true) throws -> Tree {
        do {
            return try Tree.decode(try blob(id, keep: keep))
        } catch let e as DecodingFailure {
            throw EngineError.treeDamaged(id: id.short, reason: "\(e)")
        }
    }

    /// The plaintext of tree blob `id`, from the cache or its pack read whole, else read alone.
    public func blob(_ id: BlobID, keep: Bool = true) throws -> [UInt8] {
        var sealed = cached(id, keep: keep)
        if sealed == nil, let pack = packToRead(for: id), let trees = fetch(pack) {
            store(trees, except: keep ? nil : id)
            sealed = trees.first { $0.entry.id == id }
            // The pack did not yield it (damaged, or the index is wrong): read its blobs alone.
            if sealed == nil { state.withLock { _ = $0.unusable.insert(pack) } }
        }
        if let sealed {
            if let plaintext = try? decoders.withDecoder({ try sealed.open(with: $0) }) {
                state.withLock { $0.treesOpened += 1 }
                return plaintext
            }
            // Damaged in this copy of the pack: read alone, the blob gives the precise error,
            // or comes from a mirror's next replica.
            forget(id)
        }
        return try repository.loadBlob(id)
    }

    /// Reads, on several threads, the packs holding those of `ids` that are not cached, so
    /// that loading them afterwards costs no request. Failures are left for `tree` to meet
    /// and report.
    public func prefetch<S: Sequence>(_ ids: S) where S.Element == BlobID {
        var packs: Set<PackID> = []
        for id in ids where !isCached(id) {
            if let pack = packToRead(for: id) { packs.insert(pack) }
        }
        read(packs.sorted())
    }

    private func isCached(_ id: BlobID) -> Bool { state.withLock { $0.trees[id] != nil } }

    private func cached(_ id: BlobID, keep: Bool) -> SealedTree? {
        state.withLock { s in
            guard let tree = s.trees[id] else { return nil }
            if !keep {
                s.trees[id] = nil
                s.bytes -= tree.bytes.count
            }
            return tree
        }
    }

    private func forget(_ id: BlobID) {
        state.withLock { s in
            if let tree = s.trees.removeValue(forKey: id) { s.bytes -= tree.bytes.count }
        }
    }

    /// The pack to read whole for `id`; `nil` when the blob is to be read alone.
    private func packToRead(for id: BlobID) -> PackID? {
        guard let location = repository.index.lookup(id), location.entry.type == .tree,
              let size = repository.index.packSize(location.pack), size <= Repository.largestTreePackReadWhole else { return nil }
        return state.withLock { $0.unusable.contains(location.pack) } ? nil : location.pack
    }

    /// Reads `packs` whole, `options.workers` at a time, and caches their trees.
    private func read(_ packs: [PackID]) {
        guard !packs.isEmpty else { return }
        ParallelWork.forEach(packs.count, workers: options.workers) { i in
            if let trees = self.fetch(packs[i]) { self.store(trees) }
        }
    }

    /// The trees of `pack`, read whole; `nil` (and the pack marked unusable) when it cannot be.
    private func fetch(_ pack: PackID) -> [SealedTree]? {
        do {
            let trees = try repository.loadSealedTrees(ofPack: pack)
            state.withLock { $0.packsRead += 1 }
            return trees
        } catch {
            state.withLock { _ = $0.unusable.insert(pack) }
            return nil
        }
    }

    /// Caches `trees` (but `except`), dropping the oldest beyond `options.cacheBytes`.
    private func store(_ trees: [SealedTree], except: BlobID? = nil) {
        let limit = options.cacheBytes
        state.withLock { s in
            // The trees just read are kept even beyond the limit: they are about to be used.
            let batch = s.order.count
            for tree in trees where tree.entry.id != except && s.trees[tree.entry.id] == nil {
                s.trees[tree.entry.id] = tree
                s.order.append(tree.entry.id)
                s.bytes += tree.bytes.count
            }
            while s.bytes > limit, s.head < batch {
                let oldest = s.order[s.head]
                s.head += 1
                if let dropped = s.trees.removeValue(forKey: oldest) { s.bytes -= dropped.bytes.count }
            }
            // Trees taken with `keep: false` leave stale IDs in `order`; compact now and then.
            if s.head > 4096 && s.head * 2 > s.order.count {
                s.order.removeFirst(s.head)
                s.head = 0
            }
            if s.order.count > 4 * max(s.trees.count, 4096) {
                s.order = s.order[s.head...].filter { s.trees[$0] != nil }
                s.head = 0
            }
        }
    }
}
