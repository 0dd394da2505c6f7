import SnapCore
import SnapCrypto
import SnapStorage

extension Repository {
    /// Packs larger than this are never read whole for their trees: their trees are read
    /// one blob at a time (`loadBlob`). snap's tree packs are about `config.packSize`.
    public static let largestTreePackReadWhole = largestCachedTreePack

    /// Reads the whole of `pack` in one request, checks its bytes against its name, reads
    /// its header from those bytes, and decrypts, authenticates and decodes every tree blob
    /// in it (each blob's content is checked against its ID).
    ///
    /// The pack is read with `readMetadata`, so a metadata cache answers from, and keeps, a
    /// copy whose bytes hash to the pack's name; a mirror tries its next replica when a copy
    /// does not.
    ///
    /// - Parameter decoder: used on the calling thread only.
    /// - Returns: the tree blobs that decode; blobs that do not are left out, so that a
    ///   caller reading them one at a time (`loadBlob`) gets the precise error.
    /// - Throws: `StorageError` when the pack cannot be read; `RepositoryError.damaged` when
    ///   its bytes do not match its name or its header cannot be read.
    public func loadTrees(ofPack pack: PackID, decoder: BlobDecoder) throws -> [(id: BlobID, plaintext: [UInt8])] {
        let file = FileName(.data, pack.hex)
        let bytes = try backend.readMetadata(file) { SHA256.hash($0) == pack.raw.bytes }
        guard SHA256.hash(bytes) == pack.raw.bytes else {
            throw RepositoryError.damaged(file: file.description, reason: "content does not match its name")
        }
        let header = try PackFormat.readHeader(of: pack, size: bytes.count, keys: keys) { range in
            guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
                throw RepositoryError.damaged(file: file.description, reason: "header points outside the pack")
            }
            return Array(bytes[range])
        }
        var trees: [(id: BlobID, plaintext: [UInt8])] = []
        bytes.withUnsafeBytes { all in
            for e in header.entries where e.type == .tree {
                let start = Int(e.offset), end = Int(e.offset) + Int(e.length)
                guard start >= 0, end <= all.count,
                      let plaintext = try? decoder.decode(UnsafeRawBufferPointer(rebasing: all[start..<end]), entry: e,
                                                          pack: pack, salt: header.salt) else { continue }
                trees.append((e.id, plaintext))
            }
        }
        return trees
    }
}
