import Foundation
import SnapCrypto

/// A restic key file (`keys/ID`, plain JSON; restic `doc/design.rst`, "Keys, Encryption and
/// MAC"): scrypt parameters and salt, and the master keys sealed under the key scrypt
/// derives from the password.
struct ResticKeyFile: Decodable {
    let kdf: String
    let n: UInt64
    let r: UInt64
    let p: UInt64
    let salt: String
    let data: String
    let hostname: String?
    let username: String?

    enum CodingKeys: String, CodingKey {
        case kdf, n = "N", r, p, salt, data, hostname, username
    }

    /// The master keys as the sealed `data` holds them: base64 fields.
    private struct MasterKeyJSON: Decodable {
        struct MAC: Decodable { let k: String; let r: String }
        let mac: MAC
        let encrypt: String
    }

    /// Whether `bytes` is one of snap's key files, which spell the cost `n` and carry a
    /// `version` (SnapRepository's `ForeignFormat` tells restic's from snap's the same way).
    static func isSnapKey(_ bytes: [UInt8]) -> Bool {
        guard bytes.first == UInt8(ascii: "{"),
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return false }
        return object["version"] != nil && object["n"] is NSNumber && object["N"] == nil
    }

    /// Parses `bytes`, the content of `file`.
    static func parse(_ bytes: [UInt8], file: String) throws -> ResticKeyFile {
        do {
            return try JSONDecoder().decode(ResticKeyFile.self, from: Data(bytes))
        } catch {
            throw ResticError.damaged(file: file, reason: "not a restic key file (\(jsonReason(error)))")
        }
    }

    /// The master keys, or `nil` when `password` does not open this key file.
    ///
    /// - Throws: `ResticError.damaged` for parameters scrypt refuses or that need more
    ///   memory than `limits` allow, for a salt or data that is not base64, and for master
    ///   keys that are not what restic writes (checked only after the MAC matched).
    func open(password: [UInt8], file: String, limits: Scrypt.Limits) throws -> ResticCipherKey? {
        guard kdf == "scrypt" else { throw ResticError.damaged(file: file, reason: "unknown key derivation \"\(kdf)\"") }
        guard let saltBytes = Data(base64Encoded: salt), let sealed = Data(base64Encoded: data) else {
            throw ResticError.damaged(file: file, reason: "salt or data is not base64")
        }
        let derived: [UInt8]
        do {
            derived = try Scrypt.derive(password: password, salt: Array(saltBytes),
                                        parameters: .init(n: n, r: r, p: p), length: 64, limits: limits)
        } catch let error as CryptoError {
            if case .scryptAboveLimit = error { throw ResticError.keyAboveLimit(file: file, reason: "\(error)") }
            throw ResticError.damaged(file: file, reason: "\(error)")
        }
        let userKey = try ResticCipherKey(encryption: Array(derived[0..<32]), macK: Array(derived[32..<48]),
                                          macR: Array(derived[48..<64]))
        let plaintext: [UInt8]
        do {
            plaintext = try userKey.open(Array(sealed))
        } catch CryptoError.authenticationFailed {
            return nil
        }
        guard let master = try? JSONDecoder().decode(MasterKeyJSON.self, from: Data(plaintext)),
              let encrypt = Data(base64Encoded: master.encrypt), encrypt.count == 32,
              let k = Data(base64Encoded: master.mac.k), k.count == 16,
              let r = Data(base64Encoded: master.mac.r), r.count == 16 else {
            throw ResticError.damaged(file: file, reason: "the master keys it holds are not in restic's form")
        }
        return try ResticCipherKey(encryption: Array(encrypt), macK: Array(k), macR: Array(r))
    }
}

/// A one-line reason for a JSON decoding failure, without Swift's coding-path noise.
func jsonReason(_ error: Error) -> String {
    switch error as? DecodingError {
    case let .keyNotFound(key, _)?: return "no \"\(key.stringValue)\" field"
    case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?:
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return "field \"\(path)\" has the wrong type"
    case let .dataCorrupted(context)?:
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? "not valid JSON" : "field \"\(path)\": \(context.debugDescription)"
    default: return "not valid JSON"
    }
}
