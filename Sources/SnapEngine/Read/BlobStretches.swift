import SnapCore
import SnapRepository
import SnapStorage

/// Reads many blobs with few requests: the blobs are grouped by pack, and each pack's
/// needed blobs are read in stretches, one request each (a coalesced range), several
/// stretches at once. Restore and copy read data this way; reading blob by blob would
/// cost one request (a round trip, and money on a cloud) per blob.
enum BlobStretches {
    /// The longest stretch read in one request where memory allows (copy, dump): large enough
    /// that few requests are made, small enough that several can be held at once.
    static let requestLimit = 8 << 20

    /// Splits a pack's needed blobs into stretches read in one request each, in offset
    /// order: a gap of more than 256 KiB of unneeded blobs, or more than `limit` bytes read,
    /// starts a new one, so a batch that needs a few blobs of a pack does not read all of it,
    /// and memory per worker stays bounded.
    static func split(_ blobs: [BlobLocation], limit: Int) -> [[BlobLocation]] {
        var result: [[BlobLocation]] = []
        var current: [BlobLocation] = []
        for b in blobs.sorted(by: { $0.entry.offset < $1.entry.offset }) {
            if let first = current.first, let last = current.last {
                let gap = Int(b.entry.offset) - Int(last.entry.offset + last.entry.length)
                let span = Int(b.entry.offset + b.entry.length) - Int(first.entry.offset)
                if gap > 256 << 10 || span > limit {
                    result.append(current)
                    current = []
                }
            }
            current.append(b)
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// The plaintext of each of `blobs` (distinct), read by stretches of at most `limit`
    /// bytes, `workers` at once; every blob is authenticated and decoded (`decodeEach`).
    ///
    /// - Throws: the error of the first blob that cannot be read, from its stretch or alone.
    static func load(_ blobs: [BlobLocation], from repository: Repository, workers: Int, limit: Int) throws -> [BlobID: [UInt8]] {
        let work = Dictionary(grouping: blobs, by: \.pack).sorted { $0.key < $1.key }
            .flatMap { pack, blobs in split(blobs, limit: limit).map { (pack, $0) } }
        let read = ParallelWork.map(work.count, workers: workers) { i in
            Result { try readStretch(of: work[i].0, work[i].1, from: repository) }
        }
        var plaintexts: [BlobID: [UInt8]] = [:]
        plaintexts.reserveCapacity(blobs.count)
        for stretch in read {
            for (id, plaintext) in try stretch.get() { plaintexts[id] = plaintext }
        }
        return plaintexts
    }

    /// Calls `body` with each of `blobs` (one stretch of `pack`, in offset order) and its
    /// plaintext, decoded from `span` (the stretch's bytes, from offset `at` of the pack, by
    /// default the first blob's), or read alone (`Repository.loadBlob`, so that a mirror
    /// tries its other replicas) when it does not decode there or there is no span. A blob
    /// that fails both ways comes with the first error. `body` returns `false` to stop.
    static func decodeEach(_ blobs: [BlobLocation], of pack: PackID, span: [UInt8]?, at offset: Int? = nil, repository: Repository,
                           decoder: BlobDecoder, _ body: (BlobLocation, Result<[UInt8], Error>) throws -> Bool) rethrows {
        guard let start = offset ?? blobs.first.map({ Int($0.entry.offset) }) else { return }
        for b in blobs {
            let decoded = Result<[UInt8], Error> {
                guard let span else { return try repository.loadBlob(b.entry.id, decoder: decoder) }
                let from = Int(b.entry.offset) - start
                do {
                    return try span.withUnsafeBytes {
                        try decoder.decode(UnsafeRawBufferPointer(rebasing: $0[from..<from + Int(b.entry.length)]),
                                           entry: b.entry, pack: pack, salt: b.salt)
                    }
                } catch {
                    guard let again = try? repository.loadBlob(b.entry.id, decoder: decoder) else { throw error }
                    return again
                }
            }
            guard try body(b, decoded) else { return }
        }
    }

    private static func readStretch(of pack: PackID, _ blobs: [BlobLocation], from repository: Repository) throws -> [(BlobID, [UInt8])] {
        guard let first = blobs.first, let last = blobs.last else { return [] }
        let decoder = try BlobDecoder(keys: repository.keys)
        let span = try? repository.backend.read(FileName(.data, pack.hex),
                                                range: Int(first.entry.offset)..<Int(last.entry.offset + last.entry.length))
        var plaintexts: [(BlobID, [UInt8])] = []
        try decodeEach(blobs, of: pack, span: span, repository: repository, decoder: decoder) { b, decoded in
            plaintexts.append((b.entry.id, try decoded.get()))
            return true
        }
        return plaintexts
    }
}
