/// Why a restic repository could not be read. Every case names the repository file (or
/// blob) it is about, so that one line tells the user what is wrong and where.
public enum ResticError: Error, Equatable, CustomStringConvertible {
    /// `location` holds no `keys/` files: not a restic repository.
    case noKeys(location: String)
    /// Every key file at `location` is snap's: a snap repository given as a restic one.
    case snapRepository(location: String)
    /// No key file opens with the password; `untried` says why each key file that could not
    /// be tried (its scrypt cost above the limits) was not.
    case wrongPassword(location: String, keysTried: Int, untried: [String] = [])
    /// The key file's scrypt cost is above the limits given: it was not tried.
    case keyAboveLimit(file: String, reason: String)
    /// A file (`config`, `keys/…`, `index/…`, `snapshots/…`, `data/…`) is damaged or was
    /// modified: it fails its MAC, its name, its JSON or its layout.
    case damaged(file: String, reason: String)
    /// A blob failed its checks (MAC, decompression, SHA-256) where it is stored.
    case damagedBlob(blob: String, file: String, reason: String)
    /// restic holds an exclusive lock (`prune`, `check --read-data` …): reading now could
    /// see packs disappear. Nothing was read or written.
    case exclusivelyLocked(file: String, holder: String, ageSeconds: Int)
    /// The config names a repository version this reader does not know.
    case unsupportedVersion(Int)
    /// A blob a tree or snapshot refers to is in no index file.
    case blobNotIndexed(blob: String, type: ResticBlobType)
    /// No snapshot, or several, start with the prefix given.
    case snapshotNotFound(String)
    case ambiguousSnapshot(String)
    /// Reading from storage failed.
    case storage(file: String, detail: String)

    public var description: String {
        switch self {
        case let .noKeys(location):
            return "\(location) has no restic key files (keys/): not a restic repository"
        case let .snapRepository(location):
            let path = location.hasPrefix("local:") ? String(location.dropFirst("local:".count)) : location
            return "\(location) is a snap repository, not a restic one: copy its snapshots with 'snap copy --from-repo \(path)' (without 'restic:')"
        case let .wrongPassword(location, keysTried, untried):
            return "wrong password for the restic repository at \(location) (no key file of \(keysTried) opens with it"
                + (untried.isEmpty ? ")" : "; not tried: \(untried.joined(separator: "; ")))")
        case let .keyAboveLimit(file, reason):
            return "restic key file \(file) \(reason)"
        case let .damaged(file, reason):
            return "restic repository file \(file) is damaged: \(reason)"
        case let .damagedBlob(blob, file, reason):
            return "restic blob \(blob) in \(file) is damaged: \(reason)"
        case let .exclusivelyLocked(file, holder, age):
            return "the restic repository is locked exclusively by \(holder) (\(file), \(ResticError.duration(age)) old); "
                + "snap reads it only when no restic prune or other exclusive operation runs: wait for it to finish"
                + (age > 1800 ? ", or if that process is gone, remove the stale lock with `restic unlock`" : "")
        case let .unsupportedVersion(version):
            return "restic repository version \(version) is not supported (snap reads versions 1 and 2)"
        case let .blobNotIndexed(blob, type):
            return "restic \(type) blob \(blob) is in no index file (run `restic check`, or `restic rebuild-index`)"
        case let .snapshotNotFound(prefix):
            return "no restic snapshot has an ID starting with \(prefix)"
        case let .ambiguousSnapshot(prefix):
            return "several restic snapshots have IDs starting with \(prefix): give more digits"
        case let .storage(file, detail):
            return "cannot read restic repository file \(file): \(detail)"
        }
    }

    static func duration(_ seconds: Int) -> String {
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h"
    }
}
