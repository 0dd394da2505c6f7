import SnapCompression
import SnapStorage

/// Reads blobs for one thread that walks snapshots in order (an import), with fewer and
/// larger requests than `ResticRepository.loadBlob`: a blob is read together with the
/// blobs around it in its pack (`windowLookBack` before, `windowSize` after), since restic
/// writes a snapshot's blobs in about the order a walk meets them; the next blobs then
/// come from memory. Tree
/// blobs are decoded once and kept (up to `maxCachedNodes` entries), since consecutive
/// snapshots share most of their trees. Every blob is still authenticated and checked
/// against its SHA-256 before it is returned.
///
/// Not thread-safe: one per thread.
public final class ResticBlobReader {
    /// How much of a pack one read takes after the blob asked for…
    public static let windowSize = 4 << 20
    /// …and before it: restic stores the small files of a folder in the order its workers
    /// finished them, which is near, not exactly, the order of the tree.
    public static let windowLookBack = 1 << 20
    /// How many tree entries the tree cache holds at most (about 300 bytes each).
    public static let maxCachedNodes = 200_000

    private struct Window {
        let pack: ResticPackID
        let start: Int
        let bytes: [UInt8]
    }

    let repository: ResticRepository
    private let decompressor: ZstdDecompressor?
    /// The windows read last, most recent last: restic fills several packs at once, so a
    /// walk moves between a few of them.
    private var windows: [Window] = []
    /// How many windows are kept (at most `maxWindows` × 5 MiB of memory).
    public static let maxWindows = 8
    private var trees: [ResticBlobID: [ResticNode]] = [:]
    private var treeOrder: [ResticBlobID] = []
    private var cachedNodes = 0
    /// Reads sent to storage, and blobs answered from a window already read.
    public private(set) var reads = 0
    public private(set) var blobsFromWindow = 0

    public init(repository: ResticRepository) {
        self.repository = repository
        decompressor = try? ZstdDecompressor()
    }

    /// Loads, authenticates, decompresses and checks the blob `id` of `type`.
    ///
    /// - Throws: as `ResticRepository.loadBlob`.
    public func loadBlob(_ id: ResticBlobID, type: ResticBlobType) throws -> [UInt8] {
        let location = try self.location(of: id, type: type)
        let file = FileName(.data, location.pack.hex).description
        guard let (sealed, cached) = try sealedFromWindow(location, file: file) else {
            reads += 1
            return try repository.loadBlob(id, type: type)
        }
        if let plaintext = try? ResticRepository.decodeBlob(sealed, id: id, location: location, key: repository.key,
                                                             file: file, decompressor: decompressor) {
            if cached { blobsFromWindow += 1 }
            return plaintext
        }
        // Damaged in the window: read the blob alone, which lets a mirror fail over.
        windows.removeLast()
        return try repository.loadBlob(id, type: type)
    }

    /// Where blob `id` of `type` is stored.
    func location(of id: ResticBlobID, type: ResticBlobType) throws -> ResticBlobLocation {
        guard let location = repository.index.location(of: id), location.type == type else {
            throw ResticError.blobNotIndexed(blob: id.hex, type: type)
        }
        return location
    }

    /// The sealed bytes of the blob at `location`, from a window already read (`cached`) or
    /// from a new one, which becomes the most recent window; `nil` when a window would hold
    /// no more than the blob itself, which is then best read alone.
    ///
    /// - Throws: `ResticError.storage` when the window cannot be read.
    func sealedFromWindow(_ location: ResticBlobLocation, file: String) throws -> (sealed: [UInt8], cached: Bool)? {
        let end = location.offset + location.length
        if let index = windows.lastIndex(where: { $0.pack == location.pack && location.offset >= $0.start
                                                    && end <= $0.start + $0.bytes.count }) {
            let window = windows.remove(at: index)
            windows.append(window)
            return (Array(window.bytes[(location.offset - window.start)..<(end - window.start)]), true)
        }
        let windowStart = max(0, location.offset - Self.windowLookBack)
        let windowEnd = min(location.offset + Self.windowSize, repository.index.dataEnd(of: location.pack) ?? end)
        guard windowEnd > end || windowStart < location.offset else { return nil }
        let bytes: [UInt8]
        do {
            bytes = try repository.backend.read(FileName(.data, location.pack.hex), range: windowStart..<max(windowEnd, end))
        } catch {
            throw ResticError.storage(file: file, detail: "\(error)")
        }
        reads += 1
        windows.append(Window(pack: location.pack, start: windowStart, bytes: bytes))
        if windows.count > Self.maxWindows { windows.removeFirst() }
        return (Array(bytes[(location.offset - windowStart)..<(end - windowStart)]), false)
    }

    /// Forgets the most recent window (its bytes did not authenticate).
    func dropNewestWindow() {
        if !windows.isEmpty { windows.removeLast() }
    }

    /// The entries of tree `id`, decoded once and kept while the cache has room.
    public func loadTree(_ id: ResticBlobID) throws -> [ResticNode] {
        if let nodes = trees[id] { return nodes }
        let nodes = try ResticRepository.decodeTree(try loadBlob(id, type: .tree), id: id)
        trees[id] = nodes
        treeOrder.append(id)
        cachedNodes += nodes.count
        // Oldest first out, until the cache is within its bound again.
        var dropped = 0
        while cachedNodes > Self.maxCachedNodes, dropped < treeOrder.count {
            if let old = trees.removeValue(forKey: treeOrder[dropped]) { cachedNodes -= old.count }
            dropped += 1
        }
        if dropped > 0 { treeOrder.removeFirst(dropped) }
        return nodes
    }

    /// A reader of a file's content through this reader's windows.
    public func contentReader(_ content: [ResticBlobID]) -> ResticContentReader {
        ResticContentReader(reader: self, content: content)
    }
}
