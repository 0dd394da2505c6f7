#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Keeps local copies of a repository's metadata (index files, snapshots, packs of trees)
/// so that later commands against a remote repository do not download them again.
///
/// Only files read with `readMetadata` or written with `writeMetadata` are kept; data
/// packs, locks, keys and the config always go to the repository. Copies are the
/// repository's own bytes, encrypted as they are there, in `store` (a folder under
/// `$XDG_CACHE_HOME/snap`). A copy is used only when the caller's check (its SHA-256
/// against its name) accepts it; a rejected copy is dropped and the file is read again.
/// Listing a kind drops the copies of files that are no longer in the repository, or
/// whose listed size differs from the copy's; a listing together with `keys/` that finds
/// no key drops nothing.
///
/// The cache is an optimisation, never a source of failure: when the local disk refuses a
/// copy (full, read-only), the command goes on without it and `report` hears once.
/// Wrap it around the whole stack (retry, connection limit, mirror), so that hits cost no
/// connection slot.
public final class CachingBackend: Backend {
    private let base: Backend
    private let store: LocalBackend
    private let report: @Sendable (String) -> Void
    private let reportedFailure = Atomic<Bool>(false)
    /// The kinds whose copies are used and kept; metadata of other kinds is read from `base`.
    public let kinds: Set<FileKind>

    /// - Parameters:
    ///   - directory: the folder of this repository's copies; created when first needed.
    ///   - kinds: the kinds whose copies are used and kept (a subset of index, snapshots and
    ///     data); `check` uses only the copies of tree packs (docs/cache.md).
    ///   - report: told once when the cache cannot be written, and about rejected copies.
    public init(_ base: Backend, directory: String, kinds: Set<FileKind> = CachingBackend.cachedKinds,
                report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.base = base
        store = LocalBackend(root: directory, durable: false)
        self.kinds = kinds.intersection(Self.cachedKinds)
        self.report = report
        // Marks the copies as in use, so that stale-cache clean-up leaves them alone.
        utimes(directory, nil)
    }

    public var location: String { base.location }
    /// The folder holding the copies.
    public var directory: String { store.root }

    public func write(_ file: FileName, data: [UInt8]) throws { try base.write(file, data: data) }

    public func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] { try base.read(file, range: range) }

    public func read(_ file: FileName, range: Range<Int>?, isValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        try base.read(file, range: range, isValid: isValid)
    }

    public func stat(_ file: FileName) throws -> FileInfo { try base.stat(file) }

    public func list(_ kind: FileKind) throws -> [FileInfo] {
        let listed = try base.list(kind)
        evict(kind, listed: listed)
        return listed
    }

    public var listsKindsTogether: Bool { base.listsKindsTogether }

    public func list(kinds: [FileKind]) throws -> KindListing {
        let listing = try base.list(kinds: kinds)
        // A listing of `keys/` that holds no key is not of a repository (a location moved
        // away, a bucket emptied or not yet reachable): the layers above refuse it, and the
        // copies stay for when the repository is back.
        if let keys = listing.files[.keys], keys.isEmpty { return listing }
        for (kind, listed) in listing.files { evict(kind, listed: listed) }
        return listing
    }

    private func evict(_ kind: FileKind, listed: [FileInfo]) {
        if kinds.contains(kind) { evict(kind, keeping: Dictionary(listed.map { ($0.file, $0.size) }) { a, _ in a }) }
    }

    public func delete(_ file: FileName) throws {
        try base.delete(file)
        try? store.delete(file)
    }

    public func readMetadata(_ file: FileName, isValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        guard kinds.contains(file.kind) else { return try base.readMetadata(file, isValid: isValid) }
        return try readWhole(file, isValid: isValid).bytes
    }

    /// The valid copy, or the file from the repository (kept when valid), and whether it is valid.
    private func readWhole(_ file: FileName, isValid: ([UInt8]) -> Bool) throws -> (bytes: [UInt8], valid: Bool) {
        if let copy = try? store.read(file, range: nil) {
            if isValid(copy) { return (copy, true) }
            report("the cached copy of \(file) in \(store.root) is damaged; reading it from the repository")
            try? store.delete(file)
        }
        let bytes = try base.readMetadata(file, isValid: isValid)
        let valid = isValid(bytes)
        if valid { keep(file, bytes) }
        return (bytes, valid)
    }

    /// A range of the local copy; without one, the whole file is read and kept first. A
    /// range that fails `rangeIsValid` makes the copy be checked whole, and fetched again
    /// if damaged; a file damaged as a whole in the repository is read by range instead,
    /// so that a mirror can still find an intact replica of that range.
    public func readMetadata(_ file: FileName, range: Range<Int>, isValid: ([UInt8]) -> Bool,
                             rangeIsValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        guard kinds.contains(file.kind) else { return try base.read(file, range: range, isValid: rangeIsValid) }
        if let part = try? store.read(file, range: range), rangeIsValid(part) { return part }
        let (whole, valid) = try readWhole(file, isValid: isValid)
        guard valid else { return try base.read(file, range: range, isValid: rangeIsValid) }
        guard range.lowerBound >= 0, range.upperBound <= whole.count else {
            throw StorageError.invalidRange(file, range: range, size: whole.count, location: location)
        }
        return Array(whole[range])
    }

    public func writeMetadata(_ file: FileName, data: [UInt8]) throws {
        try base.writeMetadata(file, data: data)
        keep(file, data)
    }

    public func makeStagedFile() throws -> StagedFile { try base.makeStagedFile() }

    public func write(_ file: FileName, staged: StagedFile) throws { try base.write(file, staged: staged) }

    public func writeMetadata(_ file: FileName, staged: StagedFile) throws {
        try base.writeMetadata(file, staged: staged)
        guard kinds.contains(file.kind) else { return }
        do {
            try store.write(file, staged: staged)
        } catch {
            reportCacheWriteFailure(error)
        }
    }

    /// The kinds whose copies may be kept: index files, snapshots and tree packs.
    public static let cachedKinds: Set<FileKind> = [.index, .snapshots, .data]

    private func keep(_ file: FileName, _ bytes: [UInt8]) {
        guard kinds.contains(file.kind) else { return }
        do {
            try store.write(file, data: bytes)
        } catch {
            reportCacheWriteFailure(error)
        }
    }

    /// Says once per command that the cache cannot be written; the command goes on without it.
    private func reportCacheWriteFailure(_ error: Error) {
        if !reportedFailure.exchange(true, ordering: .relaxed) {
            report("cannot write to the cache in \(store.root) (\(error)); going on without it")
        }
    }

    /// Drops the copies of packs that `isKnown` rejects: those the repository's index no
    /// longer names (repacked or deleted by a prune on another machine). One listing of the
    /// local folder; nothing is asked of the repository.
    public func dropPackCopies(keeping isKnown: (FileName) -> Bool) {
        if kinds.contains(.data) { dropCopies(of: .data) { !isKnown($0.file) } }
    }

    /// Drops copies of `kind` whose files the repository no longer has (pruned, forgotten),
    /// or has with another size (a copy is then no longer known to be the repository's file:
    /// the repository's was cut short or replaced, and is read from there to find out).
    private func evict(_ kind: FileKind, keeping present: [FileName: Int]) {
        dropCopies(of: kind) { present[$0.file] != $0.size }
    }

    /// Deletes the copies of `kind` that `doomed` picks.
    private func dropCopies(of kind: FileKind, where doomed: (FileInfo) -> Bool) {
        guard let cached = try? store.list(kind) else { return }
        for info in cached where doomed(info) { try? store.delete(info.file) }
    }
}
