import COpenSSL

/// An AES-256 key with a libcrypto cipher context of its own, for `AESGCM` and `AESCTR`:
/// the key's length is checked once, the context is made once and reused for every
/// message, and freed with the owner. Not thread-safe, like its owners.
final class CipherContext {
    static let keyLength = 32

    let pointer: OpaquePointer
    let key: [UInt8]

    /// - Throws: `CryptoError.invalidLength` unless `key` is 32 bytes; `CryptoError.library`
    ///   when libcrypto cannot make a context.
    init(key: [UInt8]) throws {
        guard key.count == Self.keyLength else {
            throw CryptoError.invalidLength(what: "AES-256 key", expected: Self.keyLength, actual: key.count)
        }
        guard let context = EVP_CIPHER_CTX_new() else { throw libraryError("EVP_CIPHER_CTX_new") }
        pointer = context
        self.key = key
    }

    deinit { EVP_CIPHER_CTX_free(pointer) }

    /// Feeds `data` to `body` in pieces that fit libcrypto's `int` lengths: each piece's
    /// address, length, and offset in `data`.
    static func inPieces(_ data: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>, Int32, Int) throws -> Void) rethrows {
        guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var offset = 0
        let step = 1 << 30
        while offset < data.count {
            let count = min(step, data.count - offset)
            try body(base + offset, Int32(count), offset)
            offset += count
        }
    }
}
