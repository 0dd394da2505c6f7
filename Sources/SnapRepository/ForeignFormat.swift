import Foundation

/// Another backup tool's repository, recognised so that opening it can say what it is
/// and how to bring its history into snap, rather than calling it damaged or absent.
public enum ForeignFormat: String, Sendable, CustomStringConvertible {
    case restic, borg, kopia

    public var description: String { rawValue }

    /// What to run to move this repository's history into a snap repository, for a
    /// repository at `location` (`local:/path`, `s3:…`).
    public func advice(location: String) -> String {
        switch self {
        case .restic:
            let path = location.hasPrefix("local:") ? String(location.dropFirst("local:".count)) : location
            return "import its snapshots with 'snap copy --from-repo restic:\(path)' (docs/from-restic.md)"
        case .borg:
            return "move its archives with 'borg export-tar REPO::ARCHIVE - | snap backup --stdin-tar --time TIME' (docs/from-borg-and-kopia.md)"
        case .kopia:
            return "move its snapshots as tar streams with 'snap backup --stdin-tar --time TIME' (docs/from-borg-and-kopia.md)"
        }
    }

    /// Files at the top of a kopia repository (kopia `repo/format`): the format blob,
    /// and the blob-storage and maintenance configuration blobs, each stored with `.f`
    /// appended by kopia's file-system storage.
    public static let kopiaMarkers = ["kopia.repository.f", "kopia.blobcfg.f", "kopia.maintenance.f"]

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
