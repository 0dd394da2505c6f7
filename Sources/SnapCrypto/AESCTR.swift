import COpenSSL

/// AES-256 in counter mode (NIST SP 800-38A) through libcrypto's `EVP_aes_256_ctr`.
///
/// The 16-byte IV is the first counter block; each following block adds one to it as a
/// 128-bit big-endian number. Counter mode only hides data; it does not authenticate it,
/// so callers check a MAC over the ciphertext before they decrypt (restic's format does so
/// with Poly1305-AES, `Poly1305AES`). Encryption and decryption are the same operation.
///
/// One instance holds one key and a reusable context. Not thread-safe: give each worker its own.
public final class AESCTR {
    public static let keyLength = 32
    public static let ivLength = 16

    private let context: OpaquePointer
    private let key: [UInt8]

    /// - Throws: `CryptoError.invalidLength` unless `key` is 32 bytes.
    public init(key: [UInt8]) throws {
        guard key.count == Self.keyLength else {
            throw CryptoError.invalidLength(what: "AES-256 key", expected: Self.keyLength, actual: key.count)
        }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw libraryError("EVP_CIPHER_CTX_new") }
        context = ctx
        self.key = key
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// XORs `input` with the key stream that starts at counter block `iv`.
    ///
    /// - Throws: `CryptoError.invalidLength` unless `iv` is 16 bytes; `CryptoError.library`
    ///   when libcrypto fails.
    public func apply(_ input: UnsafeRawBufferPointer, iv: [UInt8]) throws -> [UInt8] {
        guard iv.count == Self.ivLength else {
            throw CryptoError.invalidLength(what: "AES-CTR IV", expected: Self.ivLength, actual: iv.count)
        }
        let started = key.withUnsafeBufferPointer { k in
            iv.withUnsafeBufferPointer { v in EVP_EncryptInit_ex(context, EVP_aes_256_ctr(), nil, k.baseAddress, v.baseAddress) }
        }
        guard started == 1 else { throw libraryError("EVP_EncryptInit_ex(aes-256-ctr)") }
        // One spare byte keeps the output's address non-nil for empty input.
        var output = [UInt8](repeating: 0, count: input.count + 1)
        if let source = input.baseAddress?.assumingMemoryBound(to: UInt8.self) {
            try output.withUnsafeMutableBufferPointer { out in
                let destination = out.baseAddress!  // non-nil: count >= 1
                var offset = 0
                let step = 1 << 30  // libcrypto takes `int` lengths
                while offset < input.count {
                    let count = min(step, input.count - offset)
                    var written: Int32 = 0
                    guard EVP_EncryptUpdate(context, destination + offset, &written, source + offset, Int32(count)) == 1,
                          Int(written) == count else {
                        throw libraryError("EVP_EncryptUpdate(aes-256-ctr)")
                    }
                    offset += count
                }
            }
        }
        output.removeLast()
        return output
    }

    /// XORs `input` with the key stream that starts at counter block `iv`.
    public func apply(_ input: [UInt8], iv: [UInt8]) throws -> [UInt8] {
        try input.withUnsafeBytes { try apply($0, iv: iv) }
    }
}
