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

    /// Default scrypt cost: N = 2^15, r = 8, p = 1 (about 0.1 s and 32 MiB here), far below
    /// the default limit on opening (`Scrypt.Limits.defaultMaxMemory`, 1 GiB).
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

    /// The scrypt parameters this key file names.
    public var cost: Scrypt.Parameters { Scrypt.Parameters(n: n, r: r, p: p) }

    /// Checks the fields that can be checked without the password: version, KDF, the
    /// parameter bounds of FORMAT.md and the encodings of `salt` and `data`.
    ///
    /// - Throws: `RepositoryError.unsupportedVersion` or `.damaged`.
    public func validate() throws {
        _ = try decodedFields()
    }

    /// Decrypts the master keys; `nil` when the password is wrong (or the file was altered).
    ///
    /// - Parameter limits: the most memory and work scrypt may take; parameters above them
    ///   are refused before anything is allocated.
    /// - Throws: `RepositoryError.unsupportedVersion` or `.damaged` for a file that is not a
    ///   usable key file; `CryptoError.scryptAboveLimit` for parameters above `limits`;
    ///   `CryptoError.library` when libcrypto fails.
    public func unlock(password: String, limits: Scrypt.Limits = Scrypt.Limits()) throws -> MasterKeys? {
        let sealed = try sealedPayload()
        let kek = try Scrypt.derive(password: Array(password.utf8), salt: sealed.salt, parameters: sealed.cost, length: 32, limits: limits)
        return try open(sealed.bytes, kek: kek)
    }

    /// Checks the fields that come before the key derivation and returns what scrypt and
    /// AES-GCM need (the fuzzer reaches both halves of `unlock` without running scrypt).
    ///
    /// - Throws: `RepositoryError.unsupportedVersion` or `.damaged`; never runs scrypt.
    func sealedPayload() throws -> (cost: Scrypt.Parameters, salt: [UInt8], bytes: [UInt8]) {
        let (salt, blob) = try decodedFields()
        return (cost, salt, blob)
    }

    /// Opens `blob` (nonce ‖ sealed payload, as `sealedPayload` returns them) with the
    /// key-encryption key; `nil` when it does not authenticate.
    func open(_ blob: [UInt8], kek: [UInt8]) throws -> MasterKeys? {
        guard blob.count == AESGCM.nonceLength + 1 + 96 + AESGCM.tagLength else {
            throw RepositoryError.damaged(file: "key file", reason: "invalid salt or data encoding")
        }
        let payload: [UInt8]
        do {
            payload = try AESGCM(key: kek).open(Array(blob[AESGCM.nonceLength...]), nonce: Array(blob[..<AESGCM.nonceLength]),
                                                aad: Self.aad(created: created, hostname: hostname, username: username))
        } catch CryptoError.authenticationFailed {
            return nil
        }
        guard let payloadVersion = payload.first, payloadVersion == Self.payloadVersion, payload.count == 97 else {
            throw RepositoryError.unsupportedVersion(file: "key payload", version: Int(payload.first ?? 0))
        }
        return MasterKeys(encryption: Array(payload[1..<33]), id: Array(payload[33..<65]), chunker: Array(payload[65..<97]))
    }

    /// The salt and the sealed payload, once the fields around them are checked.
    private func decodedFields() throws -> (salt: [UInt8], blob: [UInt8]) {
        guard version == 1 else { throw RepositoryError.unsupportedVersion(file: "key file", version: version) }
        guard kdf == "scrypt" else { throw RepositoryError.damaged(file: "key file", reason: "unknown key derivation '\(kdf)'") }
        guard n > 1, n.nonzeroBitCount == 1, r > 0, p > 0, n <= 1 << 24, r <= 64, p <= 64 else {
            throw RepositoryError.damaged(file: "key file", reason: "scrypt parameters out of range (\(cost))")
        }
        guard let salt = Data(base64Encoded: salt), let blob = Data(base64Encoded: data),
              blob.count == AESGCM.nonceLength + 1 + 96 + AESGCM.tagLength
        else { throw RepositoryError.damaged(file: "key file", reason: "invalid salt or data encoding") }
        return (Array(salt), Array(blob))
    }

    /// The file's bytes (pretty JSON, keys sorted).
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self))
    }

    /// Parses a key file's bytes.
    ///
    /// - Throws: `RepositoryError.damaged` naming `keys/name` when they are not a key file's JSON.
    public static func decode(_ bytes: [UInt8], name: String) throws -> KeyFile {
        do {
            return try JSONDecoder().decode(KeyFile.self, from: Data(bytes))
        } catch {
            throw RepositoryError.damaged(file: "keys/\(name)", reason: "not a valid key file")
        }
    }
}
