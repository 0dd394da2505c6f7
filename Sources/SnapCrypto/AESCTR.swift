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
    public static let keyLength = CipherContext.keyLength
    public static let ivLength = 16

    private let cipher: CipherContext
    private var context: OpaquePointer { cipher.pointer }

    /// - Throws: `CryptoError.invalidLength` unless `key` is 32 bytes.
    public init(key: [UInt8]) throws { cipher = try CipherContext(key: key) }

    /// XORs `input` with the key stream that starts at counter block `iv`.
    ///
    /// - Throws: `CryptoError.invalidLength` unless `iv` is 16 bytes; `CryptoError.library`
    ///   when libcrypto fails.
    public func apply(_ input: UnsafeRawBufferPointer, iv: [UInt8]) throws -> [UInt8] {
        guard iv.count == Self.ivLength else {
            throw CryptoError.invalidLength(what: "AES-CTR IV", expected: Self.ivLength, actual: iv.count)
        }
        let started = cipher.key.withUnsafeBufferPointer { k in
            iv.withUnsafeBufferPointer { v in EVP_EncryptInit_ex(context, EVP_aes_256_ctr(), nil, k.baseAddress, v.baseAddress) }
        }
        guard started == 1 else { throw libraryError("EVP_EncryptInit_ex(aes-256-ctr)") }
        // One spare byte keeps the output's address non-nil for empty input.
        var output = [UInt8](repeating: 0, count: input.count + 1)
        try output.withUnsafeMutableBufferPointer { out in
            let destination = out.baseAddress!  // non-nil: count >= 1
            try CipherContext.inPieces(input) { source, count, offset in
                var written: Int32 = 0
                guard EVP_EncryptUpdate(context, destination + offset, &written, source, count) == 1, written == count else {
                    throw libraryError("EVP_EncryptUpdate(aes-256-ctr)")
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
