import SnapCore
import SnapRepository
import SnapStorage

/// Reads chosen blobs out of one pack with a single download, verifying each.
enum PackReader {
    static func blobs(of pack: IndexedPack, entries: [PackEntry], repository: Repository) throws -> [(PackEntry, [UInt8])] {
        guard let first = entries.map(\.offset).min(), let end = entries.map({ Int($0.offset) + Int($0.length) }).max() else { return [] }
        let span = try repository.backend.read(FileName(.data, pack.id.hex), range: Int(first)..<end)
        let decoder = try BlobDecoder(keys: repository.keys)
        return try span.withUnsafeBytes { all in
            try entries.map { e in
                let from = Int(e.offset - first)
                let plaintext = try decoder.decode(UnsafeRawBufferPointer(rebasing: all[from..<from + Int(e.length)]),
                                                   entry: e, pack: pack.id, salt: pack.salt)
                return (e, plaintext)
            }
        }
    }
}
