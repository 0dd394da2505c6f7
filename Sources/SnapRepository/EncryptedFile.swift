import SnapCrypto
import SnapStorage

/// The envelope of `config`, index and snapshot files (FORMAT.md, "Encrypted files"):
/// salt (24) ‖ AES-256-GCM ciphertext ‖ tag (16), under a subkey derived from the salt,
/// nonce zero, and the kind's name as associated data (so a file cannot be moved to
/// another folder and still open).
enum EncryptedFile {
    static let saltLength = 24
    static let overhead = saltLength + AESGCM.tagLength

    static func seal(_ plaintext: [UInt8], kind: FileKind, keys: MasterKeys) throws -> [UInt8] {
        let salt = try SecureRandom.bytes(saltLength)
        let cipher = try AESGCM(key: keys.subkey(salt: salt, purpose: .file))
        var out = salt
        out.reserveCapacity(plaintext.count + overhead)
        try plaintext.withUnsafeBytes {
            try cipher.seal($0, nonce: zeroNonce, aad: Array(kind.rawValue.utf8), appendingTo: &out)
        }
        return out
    }

    static func open(_ bytes: [UInt8], file: FileName, keys: MasterKeys) throws -> [UInt8] {
        guard bytes.count >= overhead else {
            throw RepositoryError.damaged(file: file.description, reason: "only \(bytes.count) bytes long")
        }
        let salt = Array(bytes[..<saltLength])
        do {
            let cipher = try AESGCM(key: keys.subkey(salt: salt, purpose: .file))
            return try bytes.withUnsafeBytes {
                try cipher.open(UnsafeRawBufferPointer(rebasing: $0[saltLength...]), nonce: zeroNonce,
                                aad: Array(file.kind.rawValue.utf8))
            }
        } catch CryptoError.authenticationFailed {
            throw RepositoryError.damaged(file: file.description, reason: "authentication failed (modified or not of this repository)")
        }
    }

    static let zeroNonce = [UInt8](repeating: 0, count: AESGCM.nonceLength)
}
