import SnapCore
import SnapCrypto
import SnapRepository

/// What `snap stats` counts (restic's four modes).
public enum StatsMode: String, Sendable, CaseIterable {
    /// Every entry and the size of every file, as a restore would write them, summed over
    /// the snapshots.
    case restoreSize = "restore-size"
    /// Files with distinct content (the same content in several places or snapshots once).
    case filesByContents = "files-by-contents"
    /// The distinct blobs the snapshots use, with their stored (compressed, encrypted) sizes.
    case rawData = "raw-data"
    /// Distinct files by content, and the distinct blobs of each, added up.
    case blobsPerFile = "blobs-per-file"
}

/// The figures of one `snap stats` run; keys as restic's `stats --json`.
public struct SnapshotStatistics: Sendable, Encodable {
    public var snapshotsCount = 0
    public var totalFileCount = 0
    public var totalSize: UInt64 = 0
    public var totalBlobCount: Int?
    /// raw-data: the plaintext size of the blobs counted.
    public var totalUncompressedSize: UInt64?
    public var compressionRatio: Double?

    enum CodingKeys: String, CodingKey {
        case snapshotsCount = "snapshots_count", totalFileCount = "total_file_count", totalSize = "total_size"
        case totalBlobCount = "total_blob_count", totalUncompressedSize = "total_uncompressed_size"
        case compressionRatio = "compression_ratio"
    }
}

/// The repository as stored: what all snapshots together cost.
public struct RepositoryUsage: Sendable, Encodable {
    /// Bytes of all packs.
    public var packBytes: UInt64 = 0
    public var packs = 0
    public var blobs = 0
    /// Plaintext bytes of all indexed blobs.
    public var rawBlobBytes: UInt64 = 0
    /// Of those, the bytes of data blobs (file contents; the rest are trees).
    public var rawDataBytes: UInt64 = 0
    /// Plaintext ÷ stored blob bytes.
    public var compressionRatio: Double = 1

    enum CodingKeys: String, CodingKey {
        case packBytes = "pack_bytes", packs, blobs, rawBlobBytes = "raw_blob_bytes", rawDataBytes = "raw_data_bytes"
        case compressionRatio = "compression_ratio"
    }
}

/// Counts for `snap stats`, over the snapshots' trees (index loaded).
public final class StatisticsCollector {
    private let repository: Repository
    private let walker: TreeWalker
    /// restore-size: entries and bytes below each tree, which identical subtrees share.
    private var subtreeTotals: [BlobID: (count: Int, size: UInt64)] = [:]
    /// files-by-contents, blobs-per-file: each distinct file's identity (the SHA-256 of its
    /// blob IDs), kept as 32-byte members of a `BlobIDSet`.
    private var seenFiles = BlobIDSet()
    /// raw-data: the trees and content blobs met, at one bit a blob of the index's table, as
    /// prune's used set (a `Set<BlobID>` took about 100 bytes a blob: 2 GB at 20 M blobs).
    /// (Not `lazy`: a lazy property is mutated through a copy, which copied the set at every insertion.)
    private var used: IndexedBlobSet
    private var stats = SnapshotStatistics()
    private let mode: StatsMode

    /// - Parameter repository: with its index loaded (raw-data's set is numbered by its table).
    public init(repository: Repository, mode: StatsMode) {
        self.repository = repository
        walker = TreeWalker(repository: repository)
        self.mode = mode
        used = IndexedBlobSet(numberingBy: repository.index)
        if mode == .rawData || mode == .blobsPerFile { stats.totalBlobCount = 0 }
        if mode == .rawData { stats.totalUncompressedSize = 0 }
    }

    /// Adds one snapshot's tree.
    public func add(_ tree: BlobID) throws {
        stats.snapshotsCount += 1
        switch mode {
        case .restoreSize:
            let totals = try restoreTotals(tree)
            stats.totalFileCount += totals.count
            stats.totalSize += totals.size
        case .rawData:
            try addRawData(tree)
        case .filesByContents, .blobsPerFile:
            try walker.walk(tree) { _, node in try addByContents(node) }
        }
    }

    /// The totals so far.
    public var result: SnapshotStatistics {
        var result = stats
        if mode == .rawData {
            // Blobs are counted once the walk is done: content blobs join the set in sorted batches.
            used.consolidate()
            var count = 0, stored: UInt64 = 0, raw: UInt64 = 0
            used.forEach { id in
                guard let entry = repository.index.lookup(id)?.entry else { return }
                count += 1
                stored += UInt64(entry.length)
                raw += UInt64(entry.rawLength)
            }
            result.totalBlobCount = count
            result.totalSize = stored
            result.totalUncompressedSize = raw
            if stored > 0 { result.compressionRatio = Double(raw) / Double(stored) }
        }
        return result
    }

    private func restoreTotals(_ tree: BlobID) throws -> (count: Int, size: UInt64) {
        if let known = subtreeTotals[tree] { return known }
        var totals = (count: 0, size: UInt64(0))
        for node in try walker.tree(tree).nodes {
            totals.count += 1
            // A further name of a hard-linked file restores no more bytes (restic counts each
            // inode's size once).
            if node.type == .file { totals.size += node.size }
            if let subtree = node.subtree {
                let below = try restoreTotals(subtree)
                totals.count += below.count
                totals.size += below.size
            }
        }
        subtreeTotals[tree] = totals
        return totals
    }

    /// Each distinct tree is walked once; its files count once per distinct tree, as restic's.
    private func addRawData(_ tree: BlobID) throws {
        guard used.insert(tree) else { return }
        for node in try walker.tree(tree).nodes {
            if node.type == .file || node.type == .hardlink { stats.totalFileCount += 1 }
            for blob in node.content { used.insertLater(blob) }
            if let subtree = node.subtree { try addRawData(subtree) }
        }
    }

    private func addByContents(_ node: Node) throws {
        guard node.type == .file || node.type == .hardlink else { return }
        // A file's identity by content: the hash of its blob IDs in order.
        guard let key = BlobID(bytes: SHA256.hash(node.content.flatMap { $0.raw.bytes })), seenFiles.insert(key) else { return }
        stats.totalFileCount += 1
        if mode == .filesByContents {
            stats.totalSize += node.size
            return
        }
        for id in Set(node.content) {
            stats.totalBlobCount = (stats.totalBlobCount ?? 0) + 1
            stats.totalSize += UInt64(repository.index.lookup(id)?.entry.rawLength ?? 0)
        }
    }

    /// The whole repository as stored.
    public static func usage(of repository: Repository) throws -> RepositoryUsage {
        var usage = RepositoryUsage()
        var stored: UInt64 = 0
        for info in try repository.backend.list(.data) {
            usage.packs += 1
            usage.packBytes += UInt64(info.size)
        }
        repository.index.forEachEntry { entry in
            usage.blobs += 1
            usage.rawBlobBytes += UInt64(entry.rawLength)
            if entry.type == .data { usage.rawDataBytes += UInt64(entry.rawLength) }
            stored += UInt64(entry.length)
        }
        if stored > 0 { usage.compressionRatio = Double(usage.rawBlobBytes) / Double(stored) }
        return usage
    }
}
