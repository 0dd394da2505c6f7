import SnapCore
import SnapRepository
import SnapStorage

/// What `snap copy` did.
public struct CopyResult: Sendable, Encodable {
    /// Source snapshot → new snapshot in the destination.
    public var copied: [(source: SnapshotID, copy: SnapshotID)] = []
    /// Source snapshots the destination already holds a copy of.
    public var alreadyCopied: [SnapshotID] = []
    public var blobsCopied = 0
    public var blobsPresent = 0
    public var bytesCopied: UInt64 = 0

    enum CodingKeys: String, CodingKey { case copied, alreadyCopied = "already_copied", blobsCopied = "blobs_copied", blobsPresent = "blobs_present", bytesCopied = "bytes_copied" }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(copied.map { ["source": $0.source.hex, "copy": $0.copy.hex] }, forKey: .copied)
        try c.encode(alreadyCopied.map(\.hex), forKey: .alreadyCopied)
        try c.encode(blobsCopied, forKey: .blobsCopied)
        try c.encode(blobsPresent, forKey: .blobsPresent)
        try c.encode(bytesCopied, forKey: .bytesCopied)
    }
}

/// Copies snapshots between two snap repositories with different keys (`snap copy`).
///
/// Blob IDs are keyed HMACs, so the same content has another ID in each repository: every
/// blob is read and decrypted from the source, its destination ID computed, and stored
/// unless the destination already has it; trees are rewritten with the new IDs, bottom up.
/// A copy records the source snapshot in `original` (or the source's own `original`), so a
/// snapshot already copied is skipped: run it again after an interruption and it resumes,
/// re-reading but not re-storing what the destination holds. Write order as a backup's:
/// packs, index, then each snapshot; under a `backup` lock in the destination.
///
/// Each snapshot is copied in two passes: its data blobs first, in the order a walk meets
/// them, read in batches of about `batchBytes` by stretches of their packs (`BlobStretches`:
/// one request per stretch, `readWorkers` at once, not one per blob); then its trees,
/// rewritten bottom up.
public final class SnapshotCopier {
    private let source: Repository
    private let destination: Repository
    private let hostname: String
    private let saver: BlobSaver
    private let walker: TreeWalker
    /// Source blob ID → destination blob ID, for blobs met in this run.
    private var mapped: [BlobID: BlobID] = [:]
    /// Destination blobs stored in this run (not in its index until the saver finishes).
    private var stored: Set<BlobID> = []
    /// Data blobs waiting to be read, in walk order, their plaintext bytes, and the trees
    /// whose data blobs have been queued.
    private var queued: [BlobLocation] = []
    private var queuedSet: Set<BlobID> = []
    private var queuedBytes = 0
    private var dataWalked: Set<BlobID> = []
    private let readWorkers: Int
    /// Plaintext bytes of data read per batch: bounds memory, and is large enough that a
    /// batch reads whole packs where the data lies together.
    static let batchBytes = 32 << 20
    private var result = CopyResult()

    private let progress: TaskProgress

    /// The source's index must be loaded; the destination's is loaded by `copy`, after its lock.
    ///
    /// - Parameter readWorkers: stretches of the source's packs read at once.
    public init(from source: Repository, to destination: Repository, hostname: String, readWorkers: Int = 4,
                progress: TaskProgress = TaskProgress()) {
        self.progress = progress
        self.readWorkers = max(1, readWorkers)
        self.source = source
        self.destination = destination
        self.hostname = hostname
        saver = BlobSaver(repository: destination)
        walker = TreeWalker(repository: source)
    }

    /// Copies `records` (the source's) that the destination holds no copy of.
    ///
    /// As in a backup, the destination's lock comes before its index is read: a prune that
    /// condemns packs after that moment waits for this copy, and packs condemned before it
    /// are in a deletion mark the lock's scan shows, so no blob is deduplicated against a
    /// pack that is being deleted. `snapshots/` and `index/` are listed with `locks/` (one
    /// request on S3); a snapshot written meanwhile may show without its index files, which
    /// only makes its blobs look new (stored again).
    ///
    /// - Parameter indexSkipped: told about each destination index file that cannot be read.
    public func copy(_ records: [SnapshotRecord], indexSkipped: (IndexID, Error) -> Void = { _, _ in }) throws -> CopyResult {
        let locked = try RepositoryLock.withListing(kind: .backup, repository: destination, hostname: hostname,
                                                    listing: [.snapshots, .index])
        defer { locked.lock.release() }
        // Blobs in packs a prune condemned are not reused, as in a backup.
        let condemned = try locked.scan.condemnedPacks(action: "copy not started")
        try destination.loadIndex(listed: IndexID.all(in: locked.listing[.index]), skipped: indexSkipped)
        destination.index.remove(packs: condemned)
        let present = Set(try SnapshotStore.all(in: destination, listed: locked.listing[.snapshots]).map { $0.snapshot.original })
        var pending: [(SnapshotID, Snapshot)] = []
        for record in records {
            let line = record.snapshot.original ?? record.id
            if present.contains(line) || present.contains(record.id) {
                result.alreadyCopied.append(record.id)
                continue
            }
            progress.start("copying snapshot \(record.id.short) (\(pending.count + result.alreadyCopied.count + 1) of \(records.count)): blobs")
            var snapshot = record.snapshot
            try queueData(under: record.snapshot.tree)
            try copyQueuedData()
            snapshot.tree = try copyTree(record.snapshot.tree)
            snapshot.original = line
            snapshot.parent = nil  // the parent is another repository's snapshot
            pending.append((record.id, snapshot))
        }
        _ = try saver.finish()  // packs and their index before any snapshot names them
        for (id, snapshot) in pending {
            result.copied.append((id, try SnapshotStore.save(snapshot, in: destination)))
        }
        return result
    }

    /// Copies one blob; returns its destination ID.
    private func copyBlob(_ id: BlobID, type: BlobType, plaintext: [UInt8]? = nil) throws -> BlobID {
        if let known = mapped[id] { return known }
        let bytes = try plaintext ?? source.loadBlob(id)
        let newID = destination.keys.blobID(of: bytes)
        if destination.index.contains(newID) || stored.contains(newID) {
            result.blobsPresent += 1
        } else {
            try saver.save(type, id: newID, plaintext: bytes)
            stored.insert(newID)
            result.blobsCopied += 1
            result.bytesCopied += UInt64(bytes.count)
        }
        mapped[id] = newID
        progress.step(bytes: UInt64(bytes.count))
        return newID
    }

    /// Queues the data blobs of tree `id` and of the trees below it that are not copied yet,
    /// copying each batch once it holds `batchBytes`.
    private func queueData(under id: BlobID) throws {
        guard mapped[id] == nil, dataWalked.insert(id).inserted else { return }
        for node in try walker.tree(id).nodes {
            for blob in node.content where mapped[blob] == nil && queuedSet.insert(blob).inserted {
                guard let location = source.index.lookup(blob) else { throw RepositoryError.blobNotFound(blob) }
                queued.append(location)
                queuedBytes += Int(location.entry.rawLength)
                if queuedBytes >= Self.batchBytes { try copyQueuedData() }
            }
            if let subtree = node.subtree { try queueData(under: subtree) }
        }
    }

    /// Reads the queued data blobs by stretches and copies them, in the order they were queued.
    private func copyQueuedData() throws {
        guard !queued.isEmpty else { return }
        let plaintexts = try BlobStretches.load(queued, from: source, workers: readWorkers, limit: BlobStretches.requestLimit)
        for blob in queued.lazy.map(\.entry.id) { _ = try copyBlob(blob, type: .data, plaintext: plaintexts[blob]) }
        queued = []
        queuedSet = []
        queuedBytes = 0
    }

    private func copyTree(_ id: BlobID) throws -> BlobID {
        if let known = mapped[id] { return known }
        var nodes: [Node] = []
        for node in try walker.tree(id).nodes {
            var copy = node
            copy.content = try node.content.map { try copyBlob($0, type: .data) }
            if let subtree = node.subtree { copy.subtree = try copyTree(subtree) }
            nodes.append(copy)
        }
        let newID = try copyBlob(id, type: .tree, plaintext: Tree(nodes: nodes).encoded())
        mapped[id] = newID
        return newID
    }
}
