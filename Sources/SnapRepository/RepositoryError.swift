import SnapCore
import SnapStorage

/// What can go wrong when reading or writing a repository, with the file or blob involved.
public enum RepositoryError: Error, CustomStringConvertible {
    /// No key file tried could be decrypted with the given password; `skipped` lists the
    /// key files that were not tried, and why.
    case wrongPassword(location: String, skipped: [SkippedKey] = [])
    /// Every key file was skipped (damaged, or above the scrypt limits): the password was never tried.
    case noUsableKey(location: String, skipped: [SkippedKey])
    /// The key file this password opened the repository with here last, from the copy kept
    /// in the cache, is no longer in the repository (`KeyConfirmingBackend`).
    case keyWithdrawn(file: FileName, location: String)
    /// The location holds no repository (no config or no keys).
    case notARepository(location: String)
    /// The location holds a snap repository's backups (`found`: the first of `snapshots/`,
    /// `index/` and `data/` found holding files) but no `config` (nor key files, when
    /// `keysMissing`): a repository that lost its config, which `init` would not bring back.
    case configMissing(location: String, found: FileKind, keysMissing: Bool)
    /// The location holds another tool's repository.
    case foreignRepository(location: String, format: ForeignFormat)
    /// `init` found an existing repository.
    case alreadyExists(location: String)
    /// `init` found a repository's backups (`found`: the first of `snapshots/`, `index/` and
    /// `data/` found holding files) without `config`, and refused to write over them.
    case holdsRepositoryFiles(location: String, found: FileKind)
    /// A file failed authentication: it was modified, truncated or is not what its name says.
    case damaged(file: String, reason: String)
    /// A blob named by a tree or snapshot is in no index.
    case blobNotFound(BlobID)
    /// A blob failed authentication or decoding.
    case blobDamaged(BlobID, pack: PackID, reason: String)
    /// The repository uses a format this version of snap does not read.
    case unsupportedVersion(file: String, version: Int)
    /// An argument that cannot be used (bad chunker parameters, compression level…).
    case invalidParameter(String)

    public var description: String {
        switch self {
        case let .wrongPassword(location, skipped):
            let base = "wrong password, or no key in \(location) opens with it"
            guard !skipped.isEmpty else { return base }
            let count = skipped.count == 1 ? "1 key file" : "\(skipped.count) key files"
            return base + "; skipped \(count): " + skipped.map { "\($0.shortName) (\($0.why))" }.joined(separator: "; ")
        case let .noUsableKey(location, skipped):
            return "no key file in \(location) could be tried: " + skipped.map { "\($0.shortName) (\($0.why))" }.joined(separator: "; ")
        case let .keyWithdrawn(file, location):
            return "\(file.kind.rawValue)/\(file.name.prefix(8)), the key file this password opened \(location) with last, "
                + "is no longer in it (removed by 'key remove' or 'key passwd', or the repository was replaced); "
                + "run the command again to try the key files it holds now"
        case let .notARepository(location):
            return "\(location) is not a snap repository (run 'snap init' to create one)"
        case let .configMissing(location, found, keysMissing):
            let lost = keysMissing ? "config file and key files are" : "config file is"
            let restore = keysMissing ? "config and keys/" : "config"
            return "\(location) looks like a snap repository whose \(lost) missing (it holds \(found.rawValue)/ files): "
                + "'snap init' would not bring it back; restore \(restore) from a backup copy of the repository or from "
                + "a mirror replica, as it cannot be rebuilt without one (docs/check-and-repair.md)"
        case let .foreignRepository(location, format):
            return "\(location) is a \(format) repository, not a snap repository: \(format.advice(location: location))"
        case let .alreadyExists(location):
            return "\(location) already holds a repository"
        case let .holdsRepositoryFiles(location, found):
            return "\(location) already holds a snap repository's files (\(found.rawValue)/) but no config: init will not "
                + "write over them; to use that repository again, restore its config from a backup copy or a mirror replica "
                + "(docs/check-and-repair.md); for a new repository, choose an empty location"
        case let .damaged(file, reason) where file == "config":
            // The config is written once and cannot be rebuilt: only a copy brings it back.
            return "config is damaged: \(reason); the repository cannot be opened without it: restore config from a "
                + "backup copy of the repository, a mirror replica, or the copy in snap's cache (key-hints/*.config; "
                + "docs/check-and-repair.md, \"A missing or damaged config\")"
        case let .damaged(file, reason):
            return "\(file) is damaged: \(reason)"
        case let .blobNotFound(id):
            return "blob \(id.short) is not in any index (run 'snap check')"
        case let .blobDamaged(id, pack, reason):
            return "blob \(id.short) in pack \(pack.short) is damaged: \(reason)"
        case let .unsupportedVersion(file, version):
            return "\(file) has format version \(version), which this snap does not read; upgrade snap"
        case let .invalidParameter(text):
            return text
        }
    }
}
