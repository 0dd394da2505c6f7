import COpenSSL

/// One AES-128 block encryption (the raw block cipher, no mode, no padding) through
/// libcrypto's `EVP_aes_128_ecb`.
///
/// Poly1305-AES needs exactly this: its one-time pad `s` is AES-128 of the nonce under the
/// MAC's AES key (Bernstein, "The Poly1305-AES message-authentication code", section 2).
/// It is not a way to encrypt data: ECB on more than one block leaks equal blocks.
public enum AESBlock {
    public static let keyLength = 16
    public static let blockLength = 16

    /// AES-128 of the 16-byte `block` under the 16-byte `key`.
    ///
    /// - Throws: `CryptoError.invalidLength` for a key or block of another length;
    ///   `CryptoError.library` when libcrypto fails.
    public static func encrypt128(_ block: [UInt8], key: [UInt8]) throws -> [UInt8] {
        guard key.count == keyLength else {
            throw CryptoError.invalidLength(what: "AES-128 key", expected: keyLength, actual: key.count)
        }
        guard block.count == blockLength else {
            throw CryptoError.invalidLength(what: "AES block", expected: blockLength, actual: block.count)
        }
        guard let context = EVP_CIPHER_CTX_new() else { throw libraryError("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: blockLength)
        let ok: Bool = key.withUnsafeBufferPointer { k in
            guard EVP_EncryptInit_ex(context, EVP_aes_128_ecb(), nil, k.baseAddress, nil) == 1,
                  EVP_CIPHER_CTX_set_padding(context, 0) == 1 else { return false }
            var written: Int32 = 0
            return block.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { o in
                    EVP_EncryptUpdate(context, o.baseAddress, &written, b.baseAddress, Int32(blockLength)) == 1
                        && written == Int32(blockLength)
                }
            }
        }
        guard ok else { throw libraryError("EVP_EncryptUpdate(aes-128-ecb)") }
        return output
    }
}
