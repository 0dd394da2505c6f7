import SnapCore
import SnapRepository

/// Blobs asked for in a known order (`snap dump`: the content of files in walk order), read
/// a window of about `windowBytes` ahead at a time by `BlobStretches` (a few large ranged
/// requests, several at once) instead of one request per blob.
///
/// A blob asked for out of order, or missing from a window that could not be read whole,
/// is read alone with `Repository.loadBlob`, so a damaged or unreadable blob fails exactly
/// where, and with the error, it would without the read-ahead. Holds one window at a time.
final class SequentialBlobs {
    private let ids: [BlobID]
    private let repository: Repository
    private let decoder: BlobDecoder?
    private let workers: Int
    private let windowBytes: Int
    /// Position in `ids` of the first blob not yet in a window.
    private var cursor = 0
    private var window: [BlobID: [UInt8]] = [:]

    init(_ ids: [BlobID], repository: Repository, decoder: BlobDecoder?, workers: Int, windowBytes: Int = 32 << 20) {
        self.ids = ids
        self.repository = repository
        self.decoder = decoder
        self.workers = max(1, workers)
        self.windowBytes = windowBytes
    }

    /// The plaintext of `id`.
    func load(_ id: BlobID) throws -> [UInt8] {
        if let bytes = window[id] { return bytes }
        // The next blob, or one a little further on (blobs passed over are those of an
        // entry written without its content, such as a second name of a hard link).
        if let next = ids[cursor...].prefix(1024).firstIndex(of: id) {
            cursor = next
            readWindow()
            if let bytes = window[id] { return bytes }
        }
        return try repository.loadBlob(id, decoder: decoder)
    }

    /// Replaces the window with the blobs from `cursor` on, up to `windowBytes` of plaintext.
    private func readWindow() {
        window = [:]
        var locations: [BlobLocation] = []
        var seen: Set<BlobID> = []
        var bytes = 0
        while cursor < ids.count && (locations.isEmpty || bytes < windowBytes) {
            let id = ids[cursor]
            cursor += 1
            guard seen.insert(id).inserted, let location = repository.index.lookup(id) else { continue }
            locations.append(location)
            bytes += Int(location.entry.rawLength)
        }
        // A window that cannot be read whole is read blob by blob, as asked for.
        window = (try? BlobStretches.load(locations, from: repository, workers: workers, limit: BlobStretches.requestLimit)) ?? [:]
    }
}
