import COpenSSL

/// The Poly1305 one-time authenticator (RFC 8439, section 2.5) through OpenSSL 3's
/// `EVP_MAC` "POLY1305".
///
/// The 32-byte key is `r || s`: libcrypto clamps `r` itself as the algorithm requires. A
/// key must authenticate one message only; `Poly1305AES` derives a fresh `s` per nonce.
public enum Poly1305 {
    public static let keyLength = 32
    public static let tagLength = 16

    /// The 16-byte tag of `message` under the one-time `key` (`r || s`).
    ///
    /// - Throws: `CryptoError.invalidLength` unless `key` is 32 bytes; `CryptoError.library`
    ///   when libcrypto fails (for example when its provider lacks Poly1305).
    public static func authenticate(_ message: UnsafeRawBufferPointer, key: [UInt8]) throws -> [UInt8] {
        guard key.count == keyLength else {
            throw CryptoError.invalidLength(what: "Poly1305 key", expected: keyLength, actual: key.count)
        }
        guard let mac = EVP_MAC_fetch(nil, "POLY1305", nil) else { throw libraryError("EVP_MAC_fetch(POLY1305)") }
        defer { EVP_MAC_free(mac) }
        guard let context = EVP_MAC_CTX_new(mac) else { throw libraryError("EVP_MAC_CTX_new(POLY1305)") }
        defer { EVP_MAC_CTX_free(context) }
        guard key.withUnsafeBufferPointer({ EVP_MAC_init(context, $0.baseAddress, keyLength, nil) }) == 1 else {
            throw libraryError("EVP_MAC_init(POLY1305)")
        }
        if let base = message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count > 0 {
            guard EVP_MAC_update(context, base, message.count) == 1 else { throw libraryError("EVP_MAC_update(POLY1305)") }
        }
        var tag = [UInt8](repeating: 0, count: tagLength)
        var length = 0
        guard tag.withUnsafeMutableBufferPointer({ EVP_MAC_final(context, $0.baseAddress, &length, tagLength) }) == 1,
              length == tagLength else {
            throw libraryError("EVP_MAC_final(POLY1305)")
        }
        return tag
    }

    /// The 16-byte tag of `message` under the one-time `key` (`r || s`).
    public static func authenticate(_ message: [UInt8], key: [UInt8]) throws -> [UInt8] {
        try message.withUnsafeBytes { try authenticate($0, key: key) }
    }
}

/// Poly1305-AES (Bernstein, "The Poly1305-AES message-authentication code", 2005): the tag
/// of a message under the MAC key `(k, r)` and a 16-byte nonce `n` is
/// `Poly1305_r(message, AES-128_k(n))`. restic authenticates every file and blob this way,
/// with the file's IV as the nonce (restic `doc/design.rst`, "Keys, Encryption and MAC").
public struct Poly1305AES: Sendable {
    public static let nonceLength = 16
    /// The AES-128 key `k` that turns each nonce into the pad `s`.
    private let k: [UInt8]
    /// The polynomial key `r` (clamped by libcrypto).
    private let r: [UInt8]

    /// - Throws: `CryptoError.invalidLength` unless `k` and `r` are 16 bytes each.
    public init(k: [UInt8], r: [UInt8]) throws {
        guard k.count == 16 else { throw CryptoError.invalidLength(what: "Poly1305-AES key k", expected: 16, actual: k.count) }
        guard r.count == 16 else { throw CryptoError.invalidLength(what: "Poly1305-AES key r", expected: 16, actual: r.count) }
        self.k = k
        self.r = r
    }

    /// The 16-byte tag of `message` for `nonce`.
    public func tag(_ message: UnsafeRawBufferPointer, nonce: [UInt8]) throws -> [UInt8] {
        guard nonce.count == Self.nonceLength else {
            throw CryptoError.invalidLength(what: "Poly1305-AES nonce", expected: Self.nonceLength, actual: nonce.count)
        }
        let s = try AESBlock.encrypt128(nonce, key: k)
        return try Poly1305.authenticate(message, key: r + s)
    }

    /// The 16-byte tag of `message` for `nonce`.
    public func tag(_ message: [UInt8], nonce: [UInt8]) throws -> [UInt8] {
        try message.withUnsafeBytes { try tag($0, nonce: nonce) }
    }

    /// Whether `tag` is the tag of `message` for `nonce`, compared in constant time.
    public func verify(_ message: UnsafeRawBufferPointer, nonce: [UInt8], tag expected: some Collection<UInt8>) throws -> Bool {
        let computed = try tag(message, nonce: nonce)
        let given = Array(expected)
        guard given.count == computed.count else { return false }
        return computed.withUnsafeBytes { c in given.withUnsafeBytes { g in CRYPTO_memcmp(c.baseAddress, g.baseAddress, c.count) == 0 } }
    }
}
