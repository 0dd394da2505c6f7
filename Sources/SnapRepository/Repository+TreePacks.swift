import SnapCore
import SnapCrypto
import SnapStorage

extension Repository {
    /// Packs larger than this are never read whole for their trees: their trees are read
    /// one blob at a time (`loadBlob`). snap's tree packs are about `config.packSize`.
    public static let largestTreePackReadWhole = largestCachedTreePack

    /// Reads the whole of `pack` in one request, checks its bytes against its name, reads
    /// its header from those bytes, and returns its tree blobs still sealed (`SealedTree`),
    /// to be opened when they are used: a tree pack's trees decoded take more than the
    /// pack's size (zstd shrinks trees), and a walk that stops early, or needs one folder
    /// of a pack, never decodes the rest.
    ///
    /// The pack is read with `readMetadata`, so a metadata cache answers from, and keeps, a
    /// copy whose bytes hash to the pack's name; a mirror tries its next replica when a copy
    /// does not.
    ///
    /// - Returns: the tree blobs whose ranges lie inside the pack; the others are left out,
    ///   so that a caller reading them one at a time (`loadBlob`) gets the precise error.
    /// - Throws: `StorageError` when the pack cannot be read; `RepositoryError.damaged` when
    ///   its bytes do not match its name or its header cannot be read.
    public func loadSealedTrees(ofPack pack: PackID) throws -> [SealedTree] {
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
        return header.entries.compactMap { e in
            let start = Int(e.offset), end = Int(e.offset) + Int(e.length)
            guard e.type == .tree, start >= 0, end <= bytes.count else { return nil }
            return SealedTree(entry: e, pack: pack, salt: header.salt, bytes: Array(bytes[start..<end]))
        }
    }
}

/// A tree blob as its pack holds it: encrypted and usually compressed, with what opening it
/// needs. Its pack's bytes were checked against the pack's name when it was read; opening it
/// authenticates the blob itself.
public struct SealedTree: Sendable {
    public let entry: PackEntry
    public let pack: PackID
    /// The pack's salt, from its header.
    public let salt: [UInt8]
    /// The blob's ciphertext.
    public let bytes: [UInt8]

    /// Decrypts, decompresses and verifies the tree (`BlobDecoder.decode`).
    /// - Throws: `RepositoryError.blobDamaged` on any mismatch.
    public func open(with decoder: BlobDecoder) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try decoder.decode($0, entry: entry, pack: pack, salt: salt) }
    }
}
