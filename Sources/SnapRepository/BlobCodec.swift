import SnapCompression
import SnapCore
import SnapCrypto
import Synchronization

/// Turns stored blob ciphertext back into verified plaintext.
///
/// One decoder per worker (it owns a zstd context). Every blob is authenticated twice:
/// by its GCM tag, and by recomputing its ID from the plaintext.
public final class BlobDecoder {
    private let keys: MasterKeys
    private let decompressor: ZstdDecompressor
    private let ids: BlobIDHasher
    /// The cipher of the pack whose blobs were decoded last: blobs come pack by pack, and
    /// deriving a pack's subkey costs more than opening a small blob.
    private var cipher: (salt: [UInt8], cipher: AESGCM)?

    public init(keys: MasterKeys) throws {
        self.keys = keys
        decompressor = try ZstdDecompressor()
        ids = BlobIDHasher(keys: keys)
    }

    private func cipher(salt: [UInt8]) throws -> AESGCM {
        if let cached = cipher, cached.salt == salt { return cached.cipher }
        let made = try AESGCM(key: keys.subkey(salt: salt, purpose: .pack))
        cipher = (salt, made)
        return made
    }

    /// Decrypts, decompresses and verifies one blob whose ciphertext is `sealed`.
    ///
    /// - Parameter salt: the pack's salt (from its index entry or trailer).
    /// - Throws: `RepositoryError.blobDamaged` on any mismatch.
    public func decode(_ sealed: UnsafeRawBufferPointer, entry: PackEntry, pack: PackID, salt: [UInt8]) throws -> [UInt8] {
        func damaged(_ reason: String) -> RepositoryError { .blobDamaged(entry.id, pack: pack, reason: reason) }
        guard sealed.count == Int(entry.length) else { throw damaged("read \(sealed.count) bytes, expected \(entry.length)") }
        let body: [UInt8]
        do {
            body = try cipher(salt: salt).open(sealed, nonce: PackFormat.nonce(header: false, offset: Int(entry.offset)))
        } catch CryptoError.authenticationFailed {
            throw damaged("authentication failed")
        }
        let plaintext: [UInt8]
        if entry.isCompressed {
            do { plaintext = try decompressor.decompress(body, length: Int(entry.rawLength)) } catch { throw damaged("\(error)") }
        } else {
            plaintext = body
        }
        guard ids.id(of: plaintext) == entry.id else { throw damaged("content does not match its ID") }
        return plaintext
    }
}

/// Decoders lent to whichever thread needs one, so that code called from many threads
/// (tree loading) makes a decoder per thread at most, not one per blob: a decoder owns a zstd
/// context and derives a key per pack. Thread-safe.
public final class BlobDecoderPool: Sendable {
    private let keys: MasterKeys
    private let idle = Mutex<[UncheckedBox<BlobDecoder>]>([])

    public init(keys: MasterKeys) { self.keys = keys }

    /// Calls `body` with a decoder no other thread uses meanwhile.
    public func withDecoder<T>(_ body: (BlobDecoder) throws -> T) throws -> T {
        let lent = try idle.withLock { $0.popLast() } ?? UncheckedBox(BlobDecoder(keys: keys))
        defer { idle.withLock { $0.append(lent) } }
        return try body(lent.value)
    }
}
