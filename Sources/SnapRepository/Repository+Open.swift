import SnapCore
import SnapCrypto
import SnapStorage

/// A key file that opening a repository left out, and why.
public struct SkippedKey: Sendable, CustomStringConvertible {
    /// The key file (`keys/ID`).
    public let file: FileName
    /// Why it was left out: `CryptoError.scryptAboveLimit` for parameters above the limits,
    /// `RepositoryError.damaged` or `.unsupportedVersion` for a file that is not a usable
    /// key file, `CryptoError.library` when libcrypto failed.
    public let reason: any Error

    public init(file: FileName, reason: any Error) { self.file = file; self.reason = reason }

    /// Whether a higher memory limit would let the key file be tried.
    public var isAboveLimit: Bool {
        if case .scryptAboveLimit? = reason as? CryptoError { return true }
        return false
    }

    /// `keys/ab12cd34`: the kind and the first eight digits of the name; a name that is no
    /// key ID in full, so that it can be found.
    public var shortName: String {
        "\(file.kind.rawValue)/\(KeyID(hex: file.name) == nil ? file.name : String(file.name.prefix(8)))"
    }

    /// Why, in a few words: `needs 16 GiB for scrypt (N=2^24, r=8), above the 1 GiB limit`.
    public var why: String {
        if case let .damaged(_, reason)? = reason as? RepositoryError { return "damaged: \(reason)" }
        return "\(reason)"
    }

    /// `keys/ab12cd34 skipped: why`.
    public var description: String { "\(shortName) skipped: \(why)" }
}

extension Repository {
    /// Opens the repository with a key file that `password` unlocks.
    ///
    /// Every key file is read and checked first: one whose bytes do not match its name,
    /// that is not a key file, or whose scrypt parameters need more memory or work than
    /// `keyLimits` allow is skipped (and passed to `keySkipped`) without running scrypt.
    /// The others are tried cheapest first (by scrypt work N·r·p, then memory), so a
    /// planted expensive key file cannot delay a command that a cheap key opens. A key
    /// file whose derivation fails is skipped too; one whose keys do not open `config` (a
    /// key left by an interrupted `init`) is passed over for the next.
    ///
    /// With a `cacheRoot`, the key file that opened the repository at this location last
    /// (`KeyHint`) is tried first, without listing `keys/`, from the copy kept beside the
    /// hint, with the copy of `config`: a command against a remote repository then opens it
    /// without a request, and confirms the key file before it uses the repository (with
    /// its first listing on S3, with a `stat` elsewhere: `KeyConfirmingBackend`). Without
    /// copies, that key file and `config` are read (two requests) and copies kept for next
    /// time. A hint that opened the repository is touched, for stale-cache clean-up.
    /// Without a `cacheRoot`, a hint under `hintRoot` names the key file to read first, and
    /// nothing is written.
    ///
    /// - Parameters:
    ///   - keyLimits: the most memory and work one scrypt derivation may take.
    ///   - cacheRoot: a folder for local copies of the repository's metadata (docs/cache.md);
    ///     this repository's copies go in a subfolder named by its ID. `nil`: no cache.
    ///   - indexCacheRoot: where the blob index's table file goes when there is no `cacheRoot`
    ///     (a local repository keeps no copies of its files, but its index table is worth
    ///     keeping): `\(root)/\(repository ID)/blob-index/`. `nil` (and no `cacheRoot`): a
    ///     large index's table is built in a temporary folder for this command only
    ///     (`IndexCachePolicy.temporaryRoot`).
    ///   - hintRoot: where the cache root would be, when the cache is not used (`--no-cache`):
    ///     a key hint found there is tried first, and none is written.
    ///   - cachedKinds: the kinds of metadata the cache serves and keeps (all by default;
    ///     `check` asks for `[.data]`: tree packs only).
    ///   - keyCopies: whether the copies of the key file and `config` may open the
    ///     repository; `check` reads both from the repository, whose state it reports.
    ///   - keyHint: the start of a key file's ID (restic's `--key-hint`): the key files it
    ///     names are tried before the others, whatever they cost.
    ///   - report: told about trouble with the cache, for warning lines.
    ///   - keySkipped: told about each key file left out, as it is left out.
    /// - Throws: `RepositoryError.notARepository` when there is no config or no key file;
    ///   `.configMissing` instead when there is no config but snapshots, index files or packs
    ///   (listed only then: `RepositoryError.withoutConfig`);
    ///   `.foreignRepository` when the config is borg's, or every key file is restic's;
    ///   `.wrongPassword` (listing the key files skipped) when the password opens none of
    ///   the key files tried; `.noUsableKey` when every key file was skipped, so the password
    ///   was never tried; `.damaged` for a config that no unlocked key opens, or that the
    ///   keys open but that cannot be used; `.unsupportedVersion` for a newer config;
    ///   storage errors as the backend throws them.
    public static func open(backend: Backend, password: String, keyLimits: Scrypt.Limits = Scrypt.Limits(),
                            cacheRoot: String? = nil, indexCacheRoot: String? = nil, hintRoot: String? = nil,
                            cachedKinds: Set<FileKind> = CachingBackend.cachedKinds, keyCopies: Bool = true,
                            keyHint: String? = nil, report: @escaping @Sendable (String) -> Void = { _ in },
                            keySkipped: (SkippedKey) -> Void = { _ in }) throws -> Repository {
        let hint = KeyHint(cacheRoot: cacheRoot ?? hintRoot, location: backend.location)
        // Only a command that uses the cache writes into it, or uses the copies.
        let kept = cacheRoot == nil ? nil : hint
        let context = OpeningContext(backend: backend, cacheRoot: cacheRoot, indexCacheRoot: indexCacheRoot,
                                     cachedKinds: cachedKinds, report: report)
        var refusedHint: FileName?
        if let file = hint?.remembered {
            switch context.tryRememberedKey(file, copies: keyCopies ? kept : nil, remembering: kept,
                                            password: password, keyLimits: keyLimits) {
            case let .opened(repository):
                kept?.touch()
                return repository
            case .refused: refusedHint = file
            case .unusable: break
            }
        }
        // The key files are listed first, without asking whether `config` exists: a repository
        // opens with one request fewer, and `config`'s absence is found when it is read.
        let listed = try backend.list(.keys)
        guard !listed.isEmpty else {
            guard try backend.exists(.config) else { throw try RepositoryError.withoutConfig(at: backend, keys: listed) }
            if ForeignFormat.isBorgConfig(try backend.read(.config)) {
                throw RepositoryError.foreignRepository(location: backend.location, format: .borg)
            }
            throw RepositoryError.notARepository(location: backend.location)
        }
        var skipped: [SkippedKey] = []
        func skip(_ file: FileName, _ reason: any Error) {
            let key = SkippedKey(file: file, reason: reason)
            skipped.append(key)
            keySkipped(key)
        }

        var candidates: [(file: FileName, key: KeyFile, bytes: [UInt8])] = []
        // restic's key files, set aside: a repository holding only these is a restic one.
        var resticKeys: [FileName] = []
        for info in listed.sorted(by: { $0.file.name < $1.file.name }) {
            let bytes: [UInt8]
            do {
                bytes = try backend.read(info.file)
            } catch StorageError.notFound {
                continue  // deleted since it was listed
            }
            guard KeyID(hex: info.file.name) != nil else {
                // Never a key snap could use, nor one `key list` or `key remove` can name: say what to do.
                skip(info.file, RepositoryError.damaged(file: info.file.description,
                                                        reason: "not a key file (its name is not a key ID); remove it with 'snap key remove \(info.file.name)' if you did not put it there"))
                continue
            }
            guard SHA256.hash(bytes) == Hex.decode(info.file.name) else {
                skip(info.file, RepositoryError.damaged(file: info.file.description, reason: "content does not match its name"))
                continue
            }
            do {
                let key = try KeyFile.decode(bytes, name: info.file.name)
                try key.validate()
                try keyLimits.check(key.cost)
                candidates.append((info.file, key, bytes))
            } catch {
                if ForeignFormat.isResticKey(bytes) { resticKeys.append(info.file) } else { skip(info.file, error) }
            }
        }
        if candidates.isEmpty && skipped.isEmpty && !resticKeys.isEmpty {
            throw RepositoryError.foreignRepository(location: backend.location, format: .restic)
        }
        for file in resticKeys {
            skip(file, RepositoryError.damaged(file: file.description, reason: "a restic key file, which snap cannot read"))
        }
        // Cheapest first; among equals, by name, so the order is the same every time.
        candidates.sort { a, b in
            let ca = (a.key.cost.work ?? .max, a.key.cost.memoryBytes ?? .max)
            let cb = (b.key.cost.work ?? .max, b.key.cost.memoryBytes ?? .max)
            return ca != cb ? ca < cb : a.file.name < b.file.name
        }
        if let keyHint = keyHint?.lowercased(), !keyHint.isEmpty {
            let named = candidates.filter { $0.file.name.hasPrefix(keyHint) }
            candidates = named + candidates.filter { !$0.file.name.hasPrefix(keyHint) }
        }

        var refused = 0
        var configDamage: RepositoryError?
        for (file, key, bytes) in candidates {
            // The remembered key was tried first, and the password did not open it.
            if file == refusedHint { refused += 1; continue }
            let unlocked: MasterKeys?
            do {
                unlocked = try key.unlock(password: password, limits: keyLimits)
            } catch {
                skip(file, error)
                continue
            }
            guard let keys = unlocked else { refused += 1; continue }
            switch try context.readConfig(keys: keys) {
            case .missing:
                throw try RepositoryError.withoutConfig(at: backend, keys: listed)
            case let .notOpened(error):
                // A key left by an interrupted init, or a damaged config: try the others.
                if configDamage == nil { configDamage = error }
                continue
            case let .opened(config, sealed):
                kept?.remember(file, key: bytes, config: sealed)
                return context.repository(keys: keys, config: config, keyFile: file)
            }
        }
        // The password opened a key file, but config did not open with its keys.
        if let configDamage { throw configDamage }
        // Nothing tried: the password may well be right, so do not call it wrong.
        if refused == 0, !skipped.isEmpty { throw RepositoryError.noUsableKey(location: backend.location, skipped: skipped) }
        throw RepositoryError.wrongPassword(location: backend.location, skipped: skipped)
    }
}

/// What `Repository.open` needs once a key has opened: where the repository is and where its cache goes.
private struct OpeningContext {
    let backend: Backend
    let cacheRoot: String?
    let indexCacheRoot: String?
    let cachedKinds: Set<FileKind>
    let report: @Sendable (String) -> Void

    enum RememberedKey {
        case opened(Repository)
        /// The key file is usable, but the password does not open it.
        case refused
        /// Gone, damaged, above the limits, or its keys do not open `config`: the usual path decides.
        case unusable
    }

    /// Opens the repository with the key file a `KeyHint` remembers, without listing `keys/`.
    ///
    /// - Parameters:
    ///   - copies: the hint whose copies of the key file and `config` may be used; a
    ///     repository opened from the key's copy confirms the key (`KeyConfirmingBackend`).
    ///   - remembering: the hint that keeps copies of what was read from the repository.
    func tryRememberedKey(_ file: FileName, copies: KeyHint?, remembering: KeyHint?,
                          password: String, keyLimits: Scrypt.Limits) -> RememberedKey {
        let copy = copies?.keyCopy(of: file)
        guard let bytes = copy ?? (try? backend.read(file)), SHA256.hash(bytes) == Hex.decode(file.name),
              let key = try? KeyFile.decode(bytes, name: file.name), (try? key.validate()) != nil,
              (try? keyLimits.check(key.cost)) != nil else { return .unusable }
        let unlocked: MasterKeys?
        do { unlocked = try key.unlock(password: password, limits: keyLimits) } catch { return .unusable }
        guard let keys = unlocked else { return .refused }
        if let copy {
            let confirming = FileInfo(file: file, size: copy.count)
            if let sealed = copies?.configCopy, case let .opened(config, _)? = try? openConfig(sealed, keys: keys) {
                if backend.listsKindsTogether {
                    return .opened(repository(keys: keys, config: config, keyFile: file, confirming: confirming, hint: copies))
                }
                // Where no listing confirms the key for free, a read of it does, now: the
                // request the first call would make anyway. A read, not a `stat`: a server's
                // object cache can answer HEAD for a file long deleted (rclone serve restic
                // does, by default), and a backup would then "succeed" into a repository that
                // is gone. A key file that is not there (a
                // key removed elsewhere, or another repository at this location: rotated
                // disks, one relative path used from two folders) sends the open down the
                // usual path, which tries the key files the repository holds, rather than
                // failing the command. The copies stay until that path opens the repository
                // and replaces them (a drive not mounted now may be back tomorrow).
                guard (try? backend.read(file)) == copy else { return .unusable }
                return .opened(repository(keys: keys, config: config, keyFile: file))
            }
            // No usable copy of config: the key file is read from the repository before
            // config is, as without copies, so nothing is read from a repository that may
            // no longer hold the key.
            guard (try? backend.read(file)) == copy else { return .unusable }
        }
        guard case let .opened(config, sealed)? = try? readConfig(keys: keys) else { return .unusable }
        remembering?.remember(file, key: copy == nil ? bytes : nil, config: sealed)
        return .opened(repository(keys: keys, config: config, keyFile: file))
    }

    enum ConfigRead {
        /// The config, and its file's bytes (for the copy a `KeyHint` keeps).
        case opened(RepositoryConfig, sealed: [UInt8])
        /// `keys` do not open it (`RepositoryError.damaged`): the key or the config is damaged.
        case notOpened(RepositoryError)
        /// There is no `config`: the caller decides what the location is (`RepositoryError.withoutConfig`).
        case missing
    }

    /// The config, read from the repository, decrypted with `keys` and checked.
    ///
    /// - Throws: `RepositoryError.damaged` when it opens but cannot be used;
    ///   `.unsupportedVersion`; storage errors.
    func readConfig(keys: MasterKeys) throws -> ConfigRead {
        let sealed: [UInt8]
        do {
            // A mirror tries its next replica when a copy does not open with the key (one
            // replica's config damaged); a single backend reads once.
            sealed = try backend.read(.config, range: nil, isValid: { (try? EncryptedFile.open($0, file: .config, keys: keys)) != nil })
        } catch StorageError.notFound {
            return .missing
        }
        return try openConfig(sealed, keys: keys)
    }

    /// The config in `sealed` (a `config` file's bytes), decrypted with `keys` and checked.
    func openConfig(_ sealed: [UInt8], keys: MasterKeys) throws -> ConfigRead {
        let bytes: [UInt8]
        do {
            bytes = try EncryptedFile.open(sealed, file: .config, keys: keys)
        } catch let error as RepositoryError {
            guard case .damaged = error else { throw error }
            return .notOpened(error)
        }
        let config = try JSONCoding.decode(RepositoryConfig.self, bytes, file: "config")
        guard config.version == RepositoryConfig.currentVersion else {
            throw RepositoryError.unsupportedVersion(file: "config", version: config.version)
        }
        if let problem = config.problem { throw RepositoryError.damaged(file: "config", reason: problem) }
        return .opened(config, sealed: sealed)
    }

    /// The opened repository, behind the cache when there is one.
    /// - Parameters:
    ///   - confirming: the key file, with its copy's size, when it came from the copy a
    ///     `KeyHint` keeps and the repository has yet to show it (`KeyConfirmingBackend`).
    ///   - hint: the hint whose copies are forgotten if the key file turns out withdrawn.
    func repository(keys: MasterKeys, config: RepositoryConfig, keyFile: FileName,
                    confirming: FileInfo? = nil, hint: KeyHint? = nil) -> Repository {
        // The ID names the folders of the copies; one that could not be a folder's name gets none.
        let validID = config.id.count == 64 && Hex.decode(config.id) != nil
        var stack = backend
        var cache: CachingBackend?
        if let cacheRoot, validID {
            let caching = CachingBackend(backend, directory: "\(cacheRoot)/\(config.id)", kinds: cachedKinds, report: report)
            cache = caching
            stack = caching
        }
        if let confirming { stack = KeyConfirmingBackend(stack, key: confirming) { hint?.forget() } }
        let indexFolder = validID ? (cacheRoot ?? indexCacheRoot).map { "\($0)/\(config.id)/blob-index" } : nil
        return Repository(backend: stack, keys: keys, config: config, keyID: KeyID(hex: keyFile.name), indexCacheFolder: indexFolder,
                          metadataCache: cache)
    }
}
