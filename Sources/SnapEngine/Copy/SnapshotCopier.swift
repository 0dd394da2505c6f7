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

    /// The snapshot whose copy failed, and why: the copy stopped there, after saving the
    /// snapshots copied before it (`SnapshotCopier.copy` throws `CopyStopped`).
    public var failed: (source: SnapshotID, reason: String)?

    enum CodingKeys: String, CodingKey { case copied, alreadyCopied = "already_copied", blobsCopied = "blobs_copied", blobsPresent = "blobs_present", bytesCopied = "bytes_copied", failed }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(copied.map { ["source": $0.source.hex, "copy": $0.copy.hex] }, forKey: .copied)
        try c.encode(alreadyCopied.map(\.hex), forKey: .alreadyCopied)
        try c.encode(blobsCopied, forKey: .blobsCopied)
        try c.encode(blobsPresent, forKey: .blobsPresent)
        try c.encode(bytesCopied, forKey: .bytesCopied)
        if let failed { try c.encode(["source": failed.source.hex, "reason": failed.reason], forKey: .failed) }
    }
}

/// A copy that stopped at a snapshot it could not copy (a blob missing or damaged in the
/// source, a source pruned meanwhile, a storage error): the snapshots copied before it are
/// saved, with the packs and index files of what was uploaded, so a second run goes on from
/// there and uploads nothing twice.
public struct CopyStopped: Error, CustomStringConvertible {
    /// What was copied and saved before it stopped; `failed` names the snapshot.
    public let result: CopyResult
    public let underlying: Error

    public var description: String {
        let saved = result.copied.count == 1 ? "1 snapshot copied before it was" : "\(result.copied.count) snapshots copied before it were"
        return "copy of snapshot \(result.failed?.source.short ?? "?") failed: \(underlying); \(saved) saved, "
            + "and a second run reuses what was uploaded"
    }
}

/// Copies snapshots between two snap repositories with different keys (`snap copy`).
///
/// Blob IDs are keyed HMACs, so the same content has another ID in each repository: every
/// blob is read and decrypted from the source, its destination ID computed, and stored
/// unless the destination already has it; trees are rewritten with the new IDs, bottom up.
/// A copy records the source snapshot in `original` (or the source's own `original`), so a
/// snapshot already copied (`isCopy`) is skipped: run it again after an interruption and it resumes,
/// re-reading but not re-storing what the destination holds. Write order as a backup's:
/// packs, index, then each snapshot; under a `backup` lock in the destination.
///
/// Each snapshot is copied in two passes: its data blobs first, in the order a walk meets
/// them, read in batches of about `batchBytes` by stretches of their packs (`BlobStretches`:
/// one request per stretch, `readWorkers` at once, not one per blob); then its trees,
/// rewritten bottom up. The first pass writes the destination ID of every content blob it
/// meets, in walk order, to a `BlobIDSpool` (a temporary file), and the second walks the same
/// trees in the same order and takes them back: no map from source to destination ID as
/// large as the snapshot is held (such a map took 200 MB for a million blobs). A blob met
/// again is found in the current or the previous batch, or else read once more.
public final class SnapshotCopier {
    private let source: Repository
    private let destination: Repository
    private let hostname: String
    private let saver: BlobSaver
    private let walker: TreeWalker
    /// Source tree ID → destination tree ID, for trees copied in this run.
    private var copiedTrees: [BlobID: BlobID] = [:]
    /// Trees the first pass of the current snapshot walked.
    private var dataWalked: Set<BlobID> = []
    /// The current batch: data blobs waiting to be read, in walk order, with their IDs and
    /// plaintext bytes; the content references met since the last batch, in walk order; the
    /// destination IDs known for this batch and for the previous one (a blob met again
    /// soon after is not read again).
    private var queued: [BlobLocation] = []
    private var queuedIDs: Set<BlobID> = []
    private var queuedBytes = 0
    private var references: [BlobID] = []
    private var batchIDs: [BlobID: BlobID] = [:]
    private var previousBatchIDs: [BlobID: BlobID] = [:]
    private let readWorkers: Int
    /// Plaintext bytes of data read per batch: bounds memory, and is large enough that a
    /// batch reads whole packs where the data lies together.
    static let batchBytes = 32 << 20
    /// References per batch at most, so that a batch of tiny or repeated blobs stays small too
    /// (tests lower it to cross batches often).
    var batchReferences = 65_536
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
        destination.index.exclude(condemned: condemned)
        var present: [SnapshotID: [Snapshot]] = [:]
        for held in try SnapshotStore.all(in: destination, listed: locked.listing[.snapshots]) {
            if let line = held.snapshot.original { present[line, default: []].append(held.snapshot) }
        }
        var pending: [(SnapshotID, Snapshot)] = []
        var failure: Error?
        for record in records {
            let line = record.snapshot.original ?? record.id
            let copies = (present[line] ?? []) + (line == record.id ? [] : present[record.id] ?? [])
            if copies.contains(where: { Self.isCopy($0, of: record.snapshot) }) {
                result.alreadyCopied.append(record.id)
                continue
            }
            progress.start("copying snapshot \(record.id.short) (\(pending.count + result.alreadyCopied.count + 1) of \(records.count)): blobs")
            do {
                pending.append((record.id, try copySnapshot(record, line: line)))
            } catch {
                // The snapshots before it are whole: saved below, as a backup that fails
                // indexes what it uploaded. Its own blobs stored so far stay for a second run.
                result.failed = (record.id, "\(error)")
                failure = error
                break
            }
        }
        do {
            _ = try saver.finish()  // packs and their index before any snapshot names them
        } catch {
            if failure == nil { throw error }
            try? saver.indexUploadedPacks()
            throw CopyStopped(result: result, underlying: failure ?? error)
        }
        for (id, snapshot) in pending {
            // As a backup: if the lock may have looked dead meanwhile (the host slept), every
            // pack the copy deduplicated against must still be there.
            try SnapshotDependencies.verify(snapshot.tree, in: destination, lock: locked.lock, timing: LockTiming())
            result.copied.append((id, try SnapshotStore.save(snapshot, in: destination)))
        }
        if let failure { throw CopyStopped(result: result, underlying: failure) }
        return result
    }

    /// Whether `held`, a destination snapshot of the same line, is a copy of `snapshot`: the
    /// same labels, as restic's copy compares them (time, host, user, IDs, paths, tags,
    /// excludes). Trees cannot be compared, since blob IDs are keyed per repository; a
    /// `rewrite` adds its patterns to `excludes` and a `tag` changes `tags`, so a snapshot
    /// rewritten or retagged since it was copied is copied again, as restic copies it.
    static func isCopy(_ held: Snapshot, of snapshot: Snapshot) -> Bool {
        held.timestamp == snapshot.timestamp && held.hostname == snapshot.hostname && held.username == snapshot.username
            && held.uid == snapshot.uid && held.gid == snapshot.gid && Set(held.paths) == Set(snapshot.paths)
            && Set(held.tags) == Set(snapshot.tags) && held.excludes == snapshot.excludes
    }

    /// Copies one snapshot's blobs and trees; returns the snapshot to save in the destination.
    private func copySnapshot(_ record: SnapshotRecord, line: SnapshotID) throws -> Snapshot {
        var snapshot = record.snapshot
        let spool = try BlobIDSpool()
        dataWalked = []
        try queueData(under: record.snapshot.tree, into: spool)
        try copyQueuedData(into: spool)
        snapshot.tree = try copyTree(record.snapshot.tree, from: spool)
        if spool.taken != spool.count { throw BlobIDSpool.SpoolError.unused(spool.count - spool.taken) }
        snapshot.original = line
        snapshot.parent = nil  // the parent is another repository's snapshot
        return snapshot
    }

    /// Stores one blob in the destination unless it holds it already; returns its destination ID.
    private func store(_ plaintext: [UInt8], type: BlobType) throws -> BlobID {
        let newID = destination.keys.blobID(of: plaintext)
        if saver.reserve(newID) {
            try saver.save(type, id: newID, plaintext: plaintext)
            result.blobsCopied += 1
            result.bytesCopied += UInt64(plaintext.count)
        } else {
            result.blobsPresent += 1
        }
        progress.step(bytes: UInt64(plaintext.count))
        return newID
    }

    /// Queues the data blobs of tree `id` and of the trees below it that are not copied yet,
    /// copying each batch once it holds `batchBytes` or `batchReferences`; every content
    /// reference of those trees is noted, in walk order, for `copyTree`.
    private func queueData(under id: BlobID, into spool: BlobIDSpool) throws {
        guard copiedTrees[id] == nil, dataWalked.insert(id).inserted else { return }
        for node in try walker.tree(id).nodes {
            for blob in node.content {
                references.append(blob)
                if batchIDs[blob] == nil {
                    if let known = previousBatchIDs[blob] {
                        batchIDs[blob] = known
                    } else if queuedIDs.insert(blob).inserted {
                        guard let location = source.index.lookup(blob) else { throw RepositoryError.blobNotFound(blob) }
                        queued.append(location)
                        queuedBytes += Int(location.entry.rawLength)
                    }
                }
                if queuedBytes >= Self.batchBytes || references.count >= batchReferences { try copyQueuedData(into: spool) }
            }
            if let subtree = node.subtree { try queueData(under: subtree, into: spool) }
        }
    }

    /// Reads the queued data blobs by stretches and stores them, in the order they were
    /// queued, then notes the destination ID of every reference of the batch.
    private func copyQueuedData(into spool: BlobIDSpool) throws {
        if !queued.isEmpty {
            let plaintexts = try BlobStretches.load(queued, from: source, workers: readWorkers, limit: BlobStretches.requestLimit)
            for blob in queued.lazy.map(\.entry.id) {
                batchIDs[blob] = try store(try plaintexts[blob] ?? source.loadBlob(blob), type: .data)
            }
        }
        for blob in references {
            guard let id = batchIDs[blob] else { throw RepositoryError.blobNotFound(blob) }
            try spool.append(id)
        }
        previousBatchIDs = batchIDs
        batchIDs = [:]
        references = []
        queued = []
        queuedIDs = []
        queuedBytes = 0
    }

    private func copyTree(_ id: BlobID, from spool: BlobIDSpool) throws -> BlobID {
        if let known = copiedTrees[id] { return known }
        var nodes: [Node] = []
        for node in try walker.tree(id).nodes {
            var copy = node
            copy.content = try spool.next(node.content.count)
            if let subtree = node.subtree { copy.subtree = try copyTree(subtree, from: spool) }
            nodes.append(copy)
        }
        let newID = try store(Tree(nodes: nodes).encoded(), type: .tree)
        copiedTrees[id] = newID
        return newID
    }
}
