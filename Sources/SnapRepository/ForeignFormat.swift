import Foundation

/// Another backup tool's repository, recognised so that opening it can say what it is
/// rather than calling it damaged or absent. snap cannot read any of them yet.
public enum ForeignFormat: String, Sendable, CustomStringConvertible {
    case restic, borg, kopia

    public var description: String { rawValue }

    /// A restic key file (restic `doc/design.rst`, "Keys, Encryption and MAC"): JSON with
    /// `"kdf": "scrypt"`, a capital `N`, `r`, `p`, `salt` and `data`. snap's key files
    /// spell the cost `n` and carry a `version`, so neither is read as the other.
    static func isResticKey(_ bytes: [UInt8]) -> Bool {
        guard bytes.first == UInt8(ascii: "{"),
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return false }
        return object["kdf"] as? String == "scrypt" && object["N"] is NSNumber && object["r"] is NSNumber
            && object["p"] is NSNumber && object["salt"] is String && object["data"] is String && object["version"] == nil
    }

    /// A borg 1.x `config`: a plain-text INI file whose first section is `[repository]`.
    /// (snap's config is encrypted, so its first bytes are a random nonce.)
    static func isBorgConfig(_ bytes: [UInt8]) -> Bool {
        let head = String(decoding: bytes.prefix(256), as: UTF8.self)
        let firstLine = head.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) }
        return firstLine?.trimmingCharacters(in: .whitespaces) == "[repository]"
    }
}
