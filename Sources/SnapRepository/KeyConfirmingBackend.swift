import SnapStorage
import Synchronization

/// The backend of a repository opened from the copies of its key file and config that a
/// `KeyHint` keeps: until the repository is seen to hold that key file still, nothing is
/// read from it and nothing but a lock is written to it.
///
/// Why: the copies spare every command two requests (the key file and `config`), but a key
/// file removed from the repository (`key remove`, `key passwd` on another machine) must
/// stop opening it here too. Most commands list the repository early (a backup right after
/// writing its lock, readers to find their snapshot); while the key is unconfirmed every
/// listing also lists `keys/` (on S3 within the same request: `keys/` lies between
/// `index/` and `snapshots/` in key order) and confirms the key when it is there with the
/// copy's size. Key files are named by the SHA-256 of their bytes, so the name and size
/// listed are the copy's file. Any other call first asks for the key file's size (one
/// request), once.
///
/// A key file that is gone, or listed with another size, makes the call throw
/// `RepositoryError.keyWithdrawn` and `withdrawn` forget the copies, so that the next
/// command opens the usual way, trying the key files the repository holds now. Locks may
/// be written and deleted before: a lock written with keys that turn out withdrawn holds
/// nothing and is removed as the command fails.
final class KeyConfirmingBackend: Backend {
    private let base: Backend
    private let key: FileInfo
    private let withdrawn: @Sendable () -> Void
    /// Set once the repository was seen to hold the key file.
    private let seen = Atomic<Bool>(false)

    /// - Parameters:
    ///   - key: the key file that opened the repository, with the size of the copy.
    ///   - withdrawn: called when the repository no longer holds that key file.
    init(_ base: Backend, key: FileInfo, withdrawn: @escaping @Sendable () -> Void) {
        self.base = base
        self.key = key
        self.withdrawn = withdrawn
    }

    /// Whether the repository was seen to hold the key file.
    var isConfirmed: Bool { seen.load(ordering: .acquiring) }

    var location: String { base.location }

    // MARK: Confirming

    /// Confirms the key from a listing of `keys/`, or throws `keyWithdrawn`.
    private func confirm(listed keys: [FileInfo]) throws {
        guard keys.contains(where: { $0.file == key.file && $0.size == key.size }) else { throw withdrawal() }
        seen.store(true, ordering: .releasing)
    }

    /// Confirms the key with a `stat` of its file unless it is confirmed already.
    private func confirmed<T>(_ body: () throws -> T) throws -> T {
        if !isConfirmed {
            let size: Int
            do { size = try base.stat(key.file).size } catch StorageError.notFound { throw withdrawal() }
            guard size == key.size else { throw withdrawal() }
            seen.store(true, ordering: .releasing)
        }
        return try body()
    }

    private func withdrawal() -> RepositoryError {
        withdrawn()
        return .keyWithdrawn(file: key.file, location: base.location)
    }

    // MARK: Backend

    func list(kinds: [FileKind]) throws -> KindListing {
        if isConfirmed || kinds.contains(.config) { return try confirmed { try base.list(kinds: kinds) } }
        var listing = try base.list(kinds: kinds.contains(.keys) ? kinds : kinds + [.keys])
        try confirm(listed: listing[.keys])
        if !kinds.contains(.keys) { listing.files[.keys] = nil }
        return listing
    }

    func list(_ kind: FileKind) throws -> [FileInfo] {
        if isConfirmed || kind == .config { return try confirmed { try base.list(kind) } }
        if kind == .keys {
            let keys = try base.list(.keys)
            try confirm(listed: keys)
            return keys
        }
        return try list(kinds: [kind])[kind]
    }

    func write(_ file: FileName, data: [UInt8]) throws {
        if file.kind == .locks { return try base.write(file, data: data) }
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
