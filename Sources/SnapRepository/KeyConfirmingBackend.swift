import SnapStorage
import Synchronization

/// The backend of a repository opened from the copies of its key file and config that a
/// `KeyHint` keeps: until the repository is seen to hold that key file still, nothing is
/// read from it and nothing but a lock is written to it.
///
/// Why: the copies spare every command two requests (the key file and `config`), but a key
/// file removed from the repository (`key remove`, `key passwd` on another machine) must
/// stop opening it here too. Most commands list the repository early (a backup right after
/// writing its lock, readers to find their snapshot). Where a listing of several folders is
/// one request (`Backend.listsKindsTogether`, S3: `keys/` lies between `index/` and
/// `snapshots/` in key order), every listing while the key is unconfirmed also lists
/// `keys/`, and a key file listed with the copy's size confirms it: key files are named by
/// the SHA-256 of their bytes, so name and size are the copy's file. Every other call, and
/// on other backends every call but a lock's `stat` and removal, first asks for the key
/// file's size (one request, as the listing of `keys/` it replaces), once.
///
/// A key file listed with another size, or gone (a listing that lacks it is checked with a
/// `stat`: a mirror lists what the replicas that answered hold), makes the call throw
/// `RepositoryError.keyWithdrawn` and `withdrawn` forget the copies, so that the next
/// command opens the usual way, trying the key files the repository holds now. When
/// `config` is gone too, nothing is there (a drive not mounted, another bucket):
/// `notARepository`, and the copies stay; or, where snapshots, index files or packs are
/// left, a repository that lost its config: `configMissing` (`RepositoryError.withoutConfig`).
/// Either answer is kept, so later calls throw it again without asking. On S3 a lock may
/// be written and deleted before: a lock written with keys that turn out withdrawn holds
/// nothing and is removed as the command fails.
/// `Repository.open` puts it only over backends that list folders together: elsewhere it
/// confirms the key file with a `stat` while opening, and opens the usual way when it is
/// gone. Over such a backend it still works (asking before any call but a lock's removal,
/// so that a lock never creates the folders of a repository that is not there), which its
/// tests use.
final class KeyConfirmingBackend: Backend {
    private let base: Backend
    private let key: FileInfo
    private let withdrawn: @Sendable () -> Void
    /// Whether a listing may confirm the key (`keys/` costs nothing in it).
    private let listingConfirms: Bool
    /// Set once the repository was seen to hold the key file.
    private let seen = Atomic<Bool>(false)
    /// Why the key cannot be used, once found.
    private let refusal = Mutex<RepositoryError?>(nil)

    /// - Parameters:
    ///   - key: the key file that opened the repository, with the size of the copy.
    ///   - withdrawn: called (once) when the repository no longer holds that key file.
    init(_ base: Backend, key: FileInfo, withdrawn: @escaping @Sendable () -> Void) {
        self.base = base
        self.key = key
        self.withdrawn = withdrawn
        listingConfirms = base.listsKindsTogether
    }

    /// Whether the repository was seen to hold the key file.
    var isConfirmed: Bool { seen.load(ordering: .acquiring) }

    var location: String { base.location }

    var listsKindsTogether: Bool { base.listsKindsTogether }

    // MARK: Confirming

    /// Confirms the key from a listing of `keys/`, asking for the key file when the listing
    /// lacks it; throws `keyWithdrawn`, `notARepository` or `configMissing` (`confirmByStat`)
    /// or a storage error.
    private func confirm(listed keys: [FileInfo]) throws {
        guard let listed = keys.first(where: { $0.file == key.file }) else {
            // A listing may miss a file that is there (a mirror's replica that did not
            // answer, a store whose listings lag): ask the file itself.
            return try confirmByStat()
        }
        guard listed.size == key.size else { throw refuse(.keyWithdrawn(file: key.file, location: base.location)) }
        seen.store(true, ordering: .releasing)
    }

    /// Confirms the key with a `stat` of its file. Errors but "not found" are thrown as they are.
    private func confirmByStat() throws {
        try checkNotRefused()
        let size: Int
        do {
            size = try base.stat(key.file).size
        } catch StorageError.notFound {
            let configGone: Bool
            do { _ = try base.stat(.config); configGone = false } catch StorageError.notFound { configGone = true }
            guard configGone else { throw refuse(.keyWithdrawn(file: key.file, location: base.location)) }
            let missing = try RepositoryError.withoutConfig(at: base, keys: nil)
            throw refuse(missing)
        }
        guard size == key.size else { throw refuse(.keyWithdrawn(file: key.file, location: base.location)) }
        seen.store(true, ordering: .releasing)
    }

    /// Throws the answer kept by `refuse`, if any.
    private func checkNotRefused() throws {
        if let refused = refusal.withLock({ $0 }) { throw refused }
    }

    /// Runs `body` once the key is confirmed (with a `stat` when no listing has confirmed it).
    private func confirmed<T>(_ body: () throws -> T) throws -> T {
        if !isConfirmed { try confirmByStat() }
        return try body()
    }

    /// Keeps `error` as the answer to every later call; forgets the copies (once) when the
    /// key was withdrawn.
    private func refuse(_ error: RepositoryError) -> RepositoryError {
        let (kept, first) = refusal.withLock { kept -> (RepositoryError, Bool) in
            if let kept { return (kept, false) }
            kept = error
            return (error, true)
        }
        if first, case .keyWithdrawn = kept { withdrawn() }
        return kept
    }

    // MARK: Backend

    func list(kinds: [FileKind]) throws -> KindListing {
        // `data/` alone: the folders are listed in key order (`data/`, `index/`, `keys/`, …),
        // so `keys/` would bring every index file with it; a `stat` is cheaper.
        guard listingConfirms, !isConfirmed, !kinds.contains(.config), Set(kinds) != [.data] else {
            return try confirmed { try base.list(kinds: kinds) }
        }
        try checkNotRefused()
        var listing = try base.list(kinds: kinds.contains(.keys) ? kinds : kinds + [.keys])
        try confirm(listed: listing[.keys])
        if !kinds.contains(.keys) { listing.files[.keys] = nil }
        return listing
    }

    func list(_ kind: FileKind) throws -> [FileInfo] {
        if isConfirmed || kind == .config { return try confirmed { try base.list(kind) } }
        if kind == .keys {
            try checkNotRefused()
            let keys = try base.list(.keys)
            try confirm(listed: keys)
            return keys
        }
        return try list(kinds: [kind])[kind]
    }

    func write(_ file: FileName, data: [UInt8]) throws {
        if file.kind == .locks && listingConfirms {
            try checkNotRefused()
            return try base.write(file, data: data)
        }
        try confirmed { try base.write(file, data: data) }
    }

    func delete(_ file: FileName) throws {
        if file.kind == .locks { return try base.delete(file) }
        try confirmed { try base.delete(file) }
    }

    func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        try confirmed { try base.read(file, range: range) }
    }

    func read(_ file: FileName, range: Range<Int>?, isValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        try confirmed { try base.read(file, range: range, isValid: isValid) }
    }

    func stat(_ file: FileName) throws -> FileInfo {
        if file.kind == .locks { return try base.stat(file) }
        return try confirmed { try base.stat(file) }
    }

    func readMetadata(_ file: FileName, isValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        try confirmed { try base.readMetadata(file, isValid: isValid) }
    }

    func readMetadata(_ file: FileName, range: Range<Int>, isValid: ([UInt8]) -> Bool,
                      rangeIsValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        try confirmed { try base.readMetadata(file, range: range, isValid: isValid, rangeIsValid: rangeIsValid) }
    }

    func writeMetadata(_ file: FileName, data: [UInt8]) throws {
        try confirmed { try base.writeMetadata(file, data: data) }
    }

    func makeStagedFile() throws -> StagedFile { try base.makeStagedFile() }

    func write(_ file: FileName, staged: StagedFile) throws {
        try confirmed { try base.write(file, staged: staged) }
    }

    func writeMetadata(_ file: FileName, staged: StagedFile) throws {
        try confirmed { try base.writeMetadata(file, staged: staged) }
    }
}
