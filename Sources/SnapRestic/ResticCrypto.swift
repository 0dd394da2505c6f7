import SnapCrypto

/// restic's encryption keys (restic `doc/design.rst`, "Keys, Encryption and MAC"): AES-256
/// for counter mode and the Poly1305-AES key `(k, r)`. Every encrypted file and blob is
/// `IV || ciphertext || MAC`, the MAC being Poly1305-AES over the ciphertext with the IV as
/// nonce.
struct ResticCipherKey: Sendable {
    static let overhead = 32
    let encryption: [UInt8]
    let mac: Poly1305AES

    init(encryption: [UInt8], macK: [UInt8], macR: [UInt8]) throws {
        guard encryption.count == AESCTR.keyLength else {
            throw CryptoError.invalidLength(what: "restic encryption key", expected: AESCTR.keyLength, actual: encryption.count)
        }
        self.encryption = encryption
        mac = try Poly1305AES(k: macK, r: macR)
    }

    /// Checks the MAC of `sealed` (`IV || ciphertext || MAC`) and only then decrypts it.
    ///
    /// - Throws: `CryptoError.authenticationFailed` when it is too short or the MAC does
    ///   not match (wrong key, or modified bytes).
    func open(_ sealed: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard sealed.count >= Self.overhead else { throw CryptoError.authenticationFailed }
        let iv = Array(sealed[0..<16])
        let ciphertext = UnsafeRawBufferPointer(rebasing: sealed[16..<(sealed.count - 16)])
        guard try mac.verify(ciphertext, nonce: iv, tag: sealed[(sealed.count - 16)...]) else {
            throw CryptoError.authenticationFailed
        }
        return try AESCTR(key: encryption).apply(ciphertext, iv: iv)
    }

    func open(_ sealed: [UInt8]) throws -> [UInt8] {
        try sealed.withUnsafeBytes { try open($0) }
    }
}
