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
}
