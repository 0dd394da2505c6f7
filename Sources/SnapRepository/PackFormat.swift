import SnapCore
import SnapCrypto
import SnapStorage

/// The byte layout of a pack file (FORMAT.md, "Packs"):
///
///     blob_1 ‖ … ‖ blob_n ‖ header ‖ salt (24) ‖ header length (u32 LE)
///
/// Each blob and the header are AES-256-GCM ciphertexts with tags, under the pack's
/// subkey HKDF(encryption key, salt, "snap pack v1"); the nonce is a domain byte
/// (0 for blobs, 1 for the header), three zero bytes, and the ciphertext's offset as a
/// big-endian u64. Offsets are unique within a pack and the subkey is unique to the pack,
/// so no (key, nonce) pair repeats.
public enum PackFormat {
    public static let saltLength = 24
    public static let trailerLength = saltLength + 4
    static let headerVersion: UInt8 = 1
    /// Hard limit on a pack's size, so offsets fit in 32 bits.
    public static let maxPackSize = Int(UInt32.max)

    static func nonce(header: Bool, offset: Int) -> [UInt8] {
        var n = [UInt8](repeating: 0, count: 12)
        n[0] = header ? 1 : 0
        for i in 0..<8 { n[11 - i] = UInt8(truncatingIfNeeded: UInt64(offset) >> UInt64(8 * i)) }
        return n
    }

    /// Encodes a header plaintext: version, count, entries, then `padding` zero bytes.
    static func encodeHeader(_ entries: [PackEntry], padding: Int) -> [UInt8] {
        var w = ByteWriter(capacity: entries.count * 48 + padding + 8)
        w.u8(headerVersion)
        w.uvarint(UInt64(entries.count))
        for e in entries { e.encode(into: &w) }
        w.raw(repeatElement(0, count: padding))
        return w.bytes
    }

    static func decodeHeader(_ plaintext: [UInt8]) throws -> [PackEntry] {
        var r = ByteReader(plaintext)
        let version = try r.u8()
        guard version == headerVersion else { throw DecodingFailure("unknown header version \(version)", at: 0) }
        let count = try r.count(limit: r.remaining / 36)
        var entries: [PackEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count { entries.append(try PackEntry.decode(from: &r)) }
        guard try r.raw(r.remaining).allSatisfy({ $0 == 0 }) else { throw DecodingFailure("non-zero padding", at: r.offset) }
        return entries
    }

    /// Reads and authenticates a pack's header with two range reads from the end.
    ///
    /// - Returns: the pack's salt and entries.
    /// - Throws: `RepositoryError.damaged` when the trailer or header is malformed or fails
    ///   authentication; `StorageError` when the file cannot be read.
    public static func readHeader(of pack: PackID, size: Int, from backend: Backend, keys: MasterKeys) throws -> (salt: [UInt8], entries: [PackEntry]) {
        let file = FileName(.data, pack.hex)
        return try readHeader(of: pack, size: size, keys: keys) { try backend.read(file, range: $0) }
    }

    /// Reads and authenticates a pack's header through `read`, which returns a byte range of the pack.
    static func readHeader(of pack: PackID, size: Int, keys: MasterKeys,
                           read: (Range<Int>) throws -> [UInt8]) throws -> (salt: [UInt8], entries: [PackEntry]) {
        let file = FileName(.data, pack.hex)
        func damaged(_ reason: String) -> RepositoryError { .damaged(file: file.description, reason: reason) }
        guard size >= trailerLength + 16 else { throw damaged("only \(size) bytes long") }
        let trailer = try read((size - trailerLength)..<size)
        // A backend (or a decorator) that returns fewer bytes than asked must not crash the slicing below.
        guard trailer.count == trailerLength else { throw damaged("read \(trailer.count) of the trailer's \(trailerLength) bytes") }
        let salt = Array(trailer[..<saltLength])
        let headerLength = Int(trailer[saltLength...].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        let headerOffset = size - trailerLength - headerLength
        guard headerLength >= 16, headerOffset >= 0 else { throw damaged("header length \(headerLength) does not fit") }
        let sealed = try read(headerOffset..<(size - trailerLength))
        guard sealed.count == headerLength else { throw damaged("read \(sealed.count) of the header's \(headerLength) bytes") }
        let plaintext: [UInt8]
        do {
            plaintext = try AESGCM(key: keys.subkey(salt: salt, purpose: .pack)).open(sealed, nonce: nonce(header: true, offset: headerOffset))
        } catch CryptoError.authenticationFailed {
            throw damaged("pack header fails authentication")
        }
        let entries: [PackEntry]
        do { entries = try decodeHeader(plaintext) } catch let e as DecodingFailure { throw damaged("pack header: \(e)") }
        for e in entries where Int(e.offset) + Int(e.length) > headerOffset {
            throw damaged("blob \(e.id.short) extends past the blobs area")
        }
        return (salt, entries)
    }
}
