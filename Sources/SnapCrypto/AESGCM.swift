import COpenSSL

/// AES-256-GCM authenticated encryption with 12-byte nonces and 16-byte tags.
///
/// One instance holds one key and a reusable libcrypto context. Not thread-safe: give
/// each worker its own. Callers own nonce uniqueness: a (key, nonce) pair must never
/// encrypt two different messages.
public final class AESGCM {
    public static let keyLength = CipherContext.keyLength
    public static let nonceLength = 12
    public static let tagLength = 16

    private let cipher: CipherContext
    private var context: OpaquePointer { cipher.pointer }
    /// The direction the context holds the key schedule for: later calls in the same
    /// direction only set the nonce.
    private var keyedFor: Direction?
    private enum Direction { case seal, open }

    /// - Throws: `CryptoError.invalidLength` unless `key` is 32 bytes.
    public init(key: [UInt8]) throws { cipher = try CipherContext(key: key) }

    /// Encrypts `plaintext`, appending ciphertext then the 16-byte tag to `output`.
    public func seal(_ plaintext: UnsafeRawBufferPointer, nonce: [UInt8], aad: [UInt8] = [], appendingTo output: inout [UInt8]) throws {
        try checkNonce(nonce)
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: plaintext.count + Self.tagLength))
        try begin(.seal, nonce: nonce)
        var length: Int32 = 0
        if !aad.isEmpty {
            try aad.withUnsafeBufferPointer { a in
                guard EVP_EncryptUpdate(context, nil, &length, a.baseAddress, Int32(a.count)) == 1 else {
                    throw libraryError("EVP_EncryptUpdate(aad)")
                }
            }
        }
        try output.withUnsafeMutableBufferPointer { out in
            let dst = out.baseAddress! + start  // non-nil: capacity was just grown by at least the tag length
            try CipherContext.inPieces(plaintext) { src, count, offset in
                guard EVP_EncryptUpdate(context, dst + offset, &length, src, count) == 1 else {
                    throw libraryError("EVP_EncryptUpdate")
                }
            }
            guard EVP_EncryptFinal_ex(context, dst + plaintext.count, &length) == 1 else {
                throw libraryError("EVP_EncryptFinal_ex")
            }
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), dst + plaintext.count) == 1 else {
                throw libraryError("EVP_CTRL_GCM_GET_TAG")
            }
        }
    }

    /// Encrypts `plaintext` and returns ciphertext followed by the tag.
    public func seal(_ plaintext: [UInt8], nonce: [UInt8], aad: [UInt8] = []) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(plaintext.count + Self.tagLength)
        try plaintext.withUnsafeBytes { try seal($0, nonce: nonce, aad: aad, appendingTo: &out) }
        return out
    }

    /// Verifies and decrypts `sealed` (ciphertext followed by tag).
    ///
    /// - Throws: `CryptoError.authenticationFailed` when the tag does not match; no
    ///   plaintext is returned in that case.
    public func open(_ sealed: UnsafeRawBufferPointer, nonce: [UInt8], aad: [UInt8] = []) throws -> [UInt8] {
        try checkNonce(nonce)
        guard sealed.count >= Self.tagLength else { throw CryptoError.authenticationFailed }
        let bodyCount = sealed.count - Self.tagLength
        try begin(.open, nonce: nonce)
        var length: Int32 = 0
        if !aad.isEmpty {
            try aad.withUnsafeBufferPointer { a in
                guard EVP_DecryptUpdate(context, nil, &length, a.baseAddress, Int32(a.count)) == 1 else {
                    throw libraryError("EVP_DecryptUpdate(aad)")
                }
            }
        }
        // One spare byte keeps the buffer's address non-nil for empty messages.
        var plaintext = [UInt8](repeating: 0, count: bodyCount + 1)
        let body = UnsafeRawBufferPointer(rebasing: sealed[0..<bodyCount])
        var tag = Array(sealed[bodyCount...])
        let verified: Bool = try plaintext.withUnsafeMutableBufferPointer { out in
            let dst = out.baseAddress!  // non-nil: count >= 1
            try CipherContext.inPieces(body) { src, count, offset in
                guard EVP_DecryptUpdate(context, dst + offset, &length, src, count) == 1 else {
                    throw libraryError("EVP_DecryptUpdate")
                }
            }
            let tagSet = tag.withUnsafeMutableBytes {
                EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), $0.baseAddress)
            }
            guard tagSet == 1 else { throw libraryError("EVP_CTRL_GCM_SET_TAG") }
            return EVP_DecryptFinal_ex(context, dst + bodyCount, &length) == 1
        }
        guard verified else {
            ERR_clear_error()
            throw CryptoError.authenticationFailed
        }
        plaintext.removeLast()
        return plaintext
    }

    /// Verifies and decrypts `sealed` (ciphertext followed by tag).
    public func open(_ sealed: [UInt8], nonce: [UInt8], aad: [UInt8] = []) throws -> [UInt8] {
        try sealed.withUnsafeBytes { try open($0, nonce: nonce, aad: aad) }
    }

    /// Starts a message: sets the key (only when the context does not hold it for this
    /// direction yet; expanding it is most of the cost of a small message) and the nonce.
    private func begin(_ direction: Direction, nonce: [UInt8]) throws {
        let initialise = direction == .seal ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        let name = direction == .seal ? "EVP_EncryptInit_ex" : "EVP_DecryptInit_ex"
        if keyedFor != direction {
            keyedFor = nil
            let keyed = cipher.key.withUnsafeBufferPointer { initialise(context, EVP_aes_256_gcm(), nil, $0.baseAddress, nil) }
            guard keyed == 1 else { throw libraryError(name) }
            keyedFor = direction
        }
        let started = nonce.withUnsafeBufferPointer { initialise(context, nil, nil, nil, $0.baseAddress) }
        guard started == 1 else {
            keyedFor = nil
            throw libraryError(name)
        }
    }

    private func checkNonce(_ nonce: [UInt8]) throws {
        guard nonce.count == Self.nonceLength else {
            throw CryptoError.invalidLength(what: "AES-GCM nonce", expected: Self.nonceLength, actual: nonce.count)
        }
    }
}
