import SnapCore
import SnapRepository
import SnapStorage

/// Reads chosen blobs out of one pack, verifying each, in a few downloads of at most
/// `stretchBytes` (or one blob) each, so that memory holds one stretch and one blob,
/// not the pack.
enum PackReader {
    static let stretchBytes = 4 << 20

    /// Calls `body` with each of `entries` and its plaintext, in pack order.
    static func forEachBlob(of pack: IndexedPack, entries: [PackEntry], repository: Repository, stretchBytes: Int = stretchBytes,
                            _ body: (PackEntry, [UInt8]) throws -> Void) throws {
        let sorted = entries.sorted { $0.offset < $1.offset }
        let decoder = try BlobDecoder(keys: repository.keys)
        var next = 0
        while next < sorted.count {
            // The stretch: the next blob, and those after it while the span stays within bounds.
            let first = Int(sorted[next].offset)
            var last = next
            while last + 1 < sorted.count, Int(sorted[last + 1].offset) + Int(sorted[last + 1].length) - first <= stretchBytes {
                last += 1
            }
            let end = Int(sorted[last].offset) + Int(sorted[last].length)
            let span = try repository.backend.read(FileName(.data, pack.id.hex), range: first..<end)
            try span.withUnsafeBytes { all in
                for e in sorted[next...last] {
                    let from = Int(e.offset) - first
                    let plaintext = try decoder.decode(UnsafeRawBufferPointer(rebasing: all[from..<from + Int(e.length)]),
                                                       entry: e, pack: pack.id, salt: pack.salt)
                    try body(e, plaintext)
                }
            }
            next = last + 1
        }
    }

    /// Why a blob of a pack read whole could not be decoded.
    enum BlobFailure {
        /// The pack ends before the blob does (a pack cut short).
        case pastEnd(blobEnd: Int, packSize: Int)
        /// It fails authentication, decompression or its ID.
        case undecodable(Error)
    }

    /// Calls `body` with each of `entries` that still decodes intact, and `damaged` with
    /// each that does not (past the end of a pack cut short, failing authentication), for
    /// packs known to be damaged (`repair packs`, `repair index`). Reads the whole pack at once.
    ///
    /// - Returns: the pack's size as read, or `nil` when it is missing (then every entry is damaged).
    /// - Throws: storage errors other than a missing pack, and what `body` throws.
    @discardableResult
    static func forEachIntactBlob(of pack: IndexedPack, entries: [PackEntry], repository: Repository,
                                  damaged: (PackEntry, String) -> Void, _ body: (PackEntry, [UInt8]) throws -> Void) throws -> Int? {
        let bytes: [UInt8]
        do {
            bytes = try repository.backend.read(FileName(.data, pack.id.hex))
        } catch StorageError.notFound {
            for e in entries.sorted(by: { $0.offset < $1.offset }) { damaged(e, "the pack is missing") }
            return nil
        }
        try decodeEach(entries, of: pack.id, salt: pack.salt, in: bytes, decoder: try BlobDecoder(keys: repository.keys),
                       rereading: repository.backend, damaged: { e, failure in
            switch failure {
            case let .pastEnd(end, size): damaged(e, "the pack ends at byte \(size), before the blob's end (\(end))")
            case let .undecodable(error): damaged(e, "\(error)")
            }
        }, body)
        return bytes.count
    }

    /// Blobs of one pack read again on their own (`decodeEach`) at most: a pack damaged
    /// throughout costs no more requests than this.
    static let secondChances = 256

    /// Decodes each of `entries`, in pack order, from `bytes` (the whole pack): `body` gets
    /// those that decode intact, `damaged` the others. The one loop behind check's diagnosis
    /// of a damaged pack and the repairs' salvage.
    ///
    /// With `rereading`, a blob that does not decode from `bytes` is read once more on its
    /// own, by its range and with its authentication as the test (`Backend.read(_:range:isValid:)`):
    /// a mirror then tries its other replicas, so a pack damaged on every replica, each at
    /// another place, still gives every blob (a mirror's whole-file read can only offer one
    /// copy, and none matches the name). Up to `secondChances` blobs a pack.
    static func decodeEach(_ entries: [PackEntry], of pack: PackID, salt: [UInt8], in bytes: [UInt8], decoder: BlobDecoder,
                           rereading backend: Backend? = nil,
                           damaged: (PackEntry, BlobFailure) -> Void, _ body: (PackEntry, [UInt8]) throws -> Void) rethrows {
        var chances = backend == nil ? 0 : secondChances
        func readAgain(_ e: PackEntry) -> [UInt8]? {
            guard let backend, chances > 0 else { return nil }
            chances -= 1
            var plaintext: [UInt8]?
            let range = Int(e.offset)..<Int(e.offset) + Int(e.length)
            _ = try? backend.read(FileName(.data, pack.hex), range: range, isValid: { sealed in
                plaintext = sealed.count == range.count
                    ? sealed.withUnsafeBytes { try? decoder.decode($0, entry: e, pack: pack, salt: salt) } : nil
                return plaintext != nil
            })
            return plaintext
        }
        try bytes.withUnsafeBytes { all in
            for e in entries.sorted(by: { $0.offset < $1.offset }) {
                let end = Int(e.offset) + Int(e.length)
                var plaintext: [UInt8]?
                var failure = BlobFailure.pastEnd(blobEnd: end, packSize: all.count)
                if end <= all.count {
                    do {
                        plaintext = try decoder.decode(UnsafeRawBufferPointer(rebasing: all[Int(e.offset)..<end]), entry: e, pack: pack, salt: salt)
                    } catch {
                        failure = .undecodable(error)
                    }
                }
                if let intact = plaintext ?? readAgain(e) { try body(e, intact) } else { damaged(e, failure) }
            }
        }
    }
}
