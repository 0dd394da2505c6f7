import Foundation
import SnapCore
import SnapCrypto
import SnapStorage

/// A password-protected copy of the master keys (`keys/ID`), stored as JSON.
///
/// Any number of key files may exist; each holds the same master keys under a different
/// password. See FORMAT.md, "Key files".
public struct KeyFile: Codable, Sendable {
    public var version: Int
    public var created: String
    public var hostname: String
    public var username: String
    public var kdf: String
    public var n: UInt64
    public var r: UInt64
    public var p: UInt64
    /// Base64 of 32 random bytes.
    public var salt: String
    /// Base64 of nonce (12) ‖ AES-256-GCM ciphertext of the key payload ‖ tag (16).
    public var data: String

    /// Default scrypt cost: N = 2^15, r = 8, p = 1 (about 0.1 s and 32 MiB here).
    public static let defaultCost = Scrypt.Parameters(n: 1 << 15, r: 8, p: 1)
    /// Associated data: a fixed label and the file's descriptive fields, so they cannot be altered.
    static func aad(created: String, hostname: String, username: String) -> [UInt8] {
        Array("snap key v1".utf8) + [0] + Array(created.utf8) + [0] + Array(hostname.utf8) + [0] + Array(username.utf8)
    }
    static let payloadVersion: UInt8 = 1

    /// Encrypts `keys` under `password`.
    public static func create(keys: MasterKeys, password: String, cost: Scrypt.Parameters = defaultCost,
                              hostname: String, username: String, created: String) throws -> KeyFile {
        let salt = try SecureRandom.bytes(32)
        let kek = try Scrypt.derive(password: Array(password.utf8), salt: salt, parameters: cost, length: 32)
        let nonce = try SecureRandom.bytes(AESGCM.nonceLength)
        let payload = [payloadVersion] + keys.encryption + keys.id + keys.chunker
        let sealed = try AESGCM(key: kek).seal(payload, nonce: nonce, aad: aad(created: created, hostname: hostname, username: username))
        return KeyFile(version: 1, created: created, hostname: hostname, username: username, kdf: "scrypt",
                       n: cost.n, r: cost.r, p: cost.p,
                       salt: Data(salt).base64EncodedString(), data: Data(nonce + sealed).base64EncodedString())
    }

    /// Decrypts the master keys; `nil` when the password is wrong (or the file was altered).
    public func unlock(password: String) throws -> MasterKeys? {
        let sealed = try sealedPayload()
        let kek = try Scrypt.derive(password: Array(password.utf8), salt: sealed.salt, parameters: sealed.cost, length: 32)
        return try open(sealed.bytes, kek: kek)
    }

    /// Checks the fields that come before the key derivation (version, KDF and its cost,
    /// the encodings of `salt` and `data`) and returns what scrypt and AES-GCM need.
    ///
    /// - Throws: `RepositoryError.unsupportedVersion` or `.damaged`; never runs scrypt.
    func sealedPayload() throws -> (cost: Scrypt.Parameters, salt: [UInt8], bytes: [UInt8]) {
        guard version == 1 else { throw RepositoryError.unsupportedVersion(file: "key file", version: version) }
        guard kdf == "scrypt" else { throw RepositoryError.damaged(file: "key file", reason: "unknown key derivation '\(kdf)'") }
        guard n > 1, n.nonzeroBitCount == 1, r > 0, p > 0, n <= 1 << 24, r <= 64, p <= 64,
              let salt = Data(base64Encoded: salt), let blob = Data(base64Encoded: data),
              blob.count == AESGCM.nonceLength + 1 + 96 + AESGCM.tagLength
        else { throw RepositoryError.damaged(file: "key file", reason: "invalid parameters or encoding") }
        return (Scrypt.Parameters(n: n, r: r, p: p), Array(salt), Array(blob))
    }

    /// Opens `bytes` (nonce ‖ sealed payload, as `sealedPayload` returns them) with the
    /// key-encryption key; `nil` when it does not authenticate.
    func open(_ bytes: [UInt8], kek: [UInt8]) throws -> MasterKeys? {
        guard bytes.count == AESGCM.nonceLength + 1 + 96 + AESGCM.tagLength else {
            throw RepositoryError.damaged(file: "key file", reason: "invalid parameters or encoding")
        }
        let payload: [UInt8]
        do {
            payload = try AESGCM(key: kek).open(Array(bytes[AESGCM.nonceLength...]), nonce: Array(bytes[..<AESGCM.nonceLength]),
                                                aad: Self.aad(created: created, hostname: hostname, username: username))
        } catch CryptoError.authenticationFailed {
            return nil
        }
        guard let payloadVersion = payload.first, payloadVersion == Self.payloadVersion, payload.count == 97 else {
            throw RepositoryError.unsupportedVersion(file: "key payload", version: Int(payload.first ?? 0))
        }
        return MasterKeys(encryption: Array(payload[1..<33]), id: Array(payload[33..<65]), chunker: Array(payload[65..<97]))
    }

    /// The file's bytes (pretty JSON, keys sorted).
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self))
    }

    public static func decode(_ bytes: [UInt8], name: String) throws -> KeyFile {
        do {
            return try JSONDecoder().decode(KeyFile.self, from: Data(bytes))
        } catch {
            throw RepositoryError.damaged(file: "keys/\(name)", reason: "not a valid key file")
        }
    }
}
