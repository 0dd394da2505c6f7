import SnapCore
import SnapRepository
import SnapStorage
import Synchronization

/// Reads data blobs for a mount in stretches: a blob together with the blobs that follow it
/// in its pack, up to `stretchBytes`, in one ranged read. Backup writes a folder's files
/// into packs in walk order, so `tar`, `cp -r` or `grep -r` over a mount reads its next small
/// files from the same stretch: one request per stretch instead of one per file, which is
/// what matters against an object store (tens of milliseconds a request).
///
/// A blob of the stretch that does not authenticate is read again alone with
/// `Repository.loadBlob`, which fails over between mirror replicas and gives the precise error.
final class PackStretches: Sendable {
    private let repository: Repository
    private let stretchBytes: Int
    /// The data blobs of recently used packs, by offset (their headers; a few dozen packs).
    private let layouts = Mutex<(packs: [PackID: [PackEntry]], order: [PackID])>(([:], []))
    private static let layoutsKept = 64

    init(repository: Repository, stretchBytes: Int) {
        self.repository = repository
        self.stretchBytes = stretchBytes
    }

    /// The blobs to read with `id`: it first, then those after it in its pack while the
    /// stretch stays within `stretchBytes`.
    func plan(_ id: BlobID) -> [BlobID] {
        guard stretchBytes > 0, let location = repository.index.lookup(id) else { return [id] }
        let entries = layout(of: location.pack)
        guard let start = firstIndex(of: location.entry.offset, in: entries), entries[start].id == id else { return [id] }
        let first = Int(entries[start].offset)
        var end = start
        while end + 1 < entries.count, Int(entries[end + 1].offset) + Int(entries[end + 1].length) - first <= stretchBytes {
            end += 1
        }
        return entries[start...end].map(\.id)
    }

    /// The plaintexts of `ids` (from `plan`), read in one request: the first always (its
    /// result or its error), the others when they were read and authenticated.
    func load(_ ids: [BlobID]) -> [BlobID: Result<[UInt8], any Error>] {
        guard let firstID = ids.first else { return [:] }
        guard ids.count > 1, let first = repository.index.lookup(firstID) else {
            return [firstID: Result { try repository.loadBlob(firstID) }]
        }
        var located: [(BlobID, BlobLocation)] = []
        for id in ids {
            guard let location = repository.index.lookup(id), location.pack == first.pack else { break }
            located.append((id, location))
        }
        let start = Int(first.entry.offset)
        let end = located.map { Int($0.1.entry.offset) + Int($0.1.entry.length) }.max() ?? start
        var results: [BlobID: Result<[UInt8], any Error>] = [:]
        if let decoder = try? BlobDecoder(keys: repository.keys),
           let span = try? repository.backend.read(FileName(.data, first.pack.hex), range: start..<end) {
            span.withUnsafeBytes { all in
                for (id, location) in located {
                    let from = Int(location.entry.offset) - start, to = from + Int(location.entry.length)
                    guard from >= 0, to <= all.count else { continue }
                    if let plaintext = try? decoder.decode(UnsafeRawBufferPointer(rebasing: all[from..<to]), entry: location.entry,
                                                           pack: location.pack, salt: location.salt) {
                        results[id] = .success(plaintext)
                    }
                }
            }
        }
        // Only the blob asked for is read again alone; the others were extras.
        if results[firstID] == nil { results[firstID] = Result { try repository.loadBlob(firstID) } }
        return results
    }

    private func firstIndex(of offset: UInt32, in entries: [PackEntry]) -> Int? {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].offset < offset { low = mid + 1 } else { high = mid }
        }
        return low < entries.count ? low : nil
    }

    /// The data blobs of `pack` by offset, from its header (two small reads, then kept).
    private func layout(of pack: PackID) -> [PackEntry] {
        if let known = layouts.withLock({ $0.packs[pack] }) { return known }
        // A header that cannot be read is remembered as empty: that pack's blobs are read alone.
        let header = repository.index.packSize(pack).flatMap { size in
            try? PackFormat.readHeader(of: pack, size: size, from: repository.backend, keys: repository.keys)
        }
        let entries = (header?.entries ?? []).filter { $0.type == .data }.sorted { $0.offset < $1.offset }
        layouts.withLock { l in
            if l.packs[pack] == nil {
                l.packs[pack] = entries
                l.order.append(pack)
                if l.order.count > Self.layoutsKept { l.packs[l.order.removeFirst()] = nil }
            }
        }
        return entries
    }
}
