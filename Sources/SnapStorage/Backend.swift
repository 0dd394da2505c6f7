/// Storage for a repository's immutable named files. Every provider (local disk, S3,
/// SFTP, REST) and every decorator (retry, mirror, fault injection) implements it.
///
/// Guarantees an implementation must give, checked by the conformance suite in
/// `SnapTestSupport`:
/// - `write` is atomic: a concurrent or later reader sees the whole file or none of it,
///   never a prefix, also when the writer crashes. Writing a name that exists replaces it
///   (callers only do so with identical content, since names are content hashes).
/// - Read-after-write: once `write` returns, `read`, `stat` and `list` see the file.
/// - `read` of a range returns exactly those bytes, or throws `invalidRange` when the
///   range ends past the file; it never returns a short read.
/// - `list` returns each file of the kind once, in no particular order, and never lists
///   temporary or partial files.
/// - `delete` of a missing file succeeds: the file is gone, which is all a caller asks.
/// - Errors are `StorageError`s, classified as `notFound`, `invalidRange`, `transient`
///   (worth retrying) or `permanent`.
///
/// Calls may come from several threads at once. Methods block until done: snap's engine
/// runs them on its own worker threads, and blocking calls fit the C transfer libraries.
public protocol Backend: AnyObject, Sendable {
    /// Where the files are, for messages (for example `local:/srv/repo`).
    var location: String { get }

    /// Stores `data` under `file`, atomically.
    func write(_ file: FileName, data: [UInt8]) throws

    /// Returns the bytes of `file` in `range`, or the whole file when `range` is `nil`.
    func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8]

    /// Returns the size of `file`.
    func stat(_ file: FileName) throws -> FileInfo

    /// Lists every file of `kind`.
    func list(_ kind: FileKind) throws -> [FileInfo]

    /// Lists every file of each of `kinds` (not `config`). A provider that can list several
    /// folders in fewer requests does (S3: one listing, in key order); the others list them
    /// one after another in the order given. `KindListing` says which happened, and why a
    /// caller may care.
    func list(kinds: [FileKind]) throws -> KindListing

    /// Whether `list(kinds:)` lists several folders in one listing (S3), so that one more
    /// folder between them costs no request. Decorators that pass `list(kinds:)` on pass
    /// this on too; those that list kind by kind (a mirror) keep the default, `false`.
    var listsKindsTogether: Bool { get }

    /// Removes `file`. A file that is not there is not an error: S3 answers a DELETE of a
    /// missing key as it answers any other, and telling them apart would cost a second request
    /// for every deletion (a lock's release, each pack a prune removes), while every caller
    /// only needs the file gone.
    func delete(_ file: FileName) throws

    /// Reads like `read(_:range:)`; a backend that holds several copies (a mirror) tries
    /// the next copy when `isValid` rejects the bytes, for example when a pack range fails
    /// authentication. A single backend reads once and returns what it read.
    func read(_ file: FileName, range: Range<Int>?, isValid: ([UInt8]) -> Bool) throws -> [UInt8]

    /// Reads the whole of `file`, which holds metadata that later commands read again (an
    /// index file, a snapshot, a pack of trees). A caching decorator answers from, and keeps,
    /// a local copy that `isValid` accepts; every other backend reads like `read`.
    func readMetadata(_ file: FileName, isValid: ([UInt8]) -> Bool) throws -> [UInt8]

    /// Reads `range` of `file`, a metadata file read a piece at a time (a pack of trees, one
    /// directory per read). `isValid` judges the whole file, `rangeIsValid` the range.
    ///
    /// A caching decorator reads the whole file once, keeps it when `isValid` accepts it,
    /// and answers from its copy; when a range of the copy fails `rangeIsValid`, it checks
    /// the copy whole and replaces a damaged one. Every other backend reads the range like
    /// `read(_:range:isValid:)` with `rangeIsValid`.
    func readMetadata(_ file: FileName, range: Range<Int>, isValid: ([UInt8]) -> Bool,
                      rangeIsValid: ([UInt8]) -> Bool) throws -> [UInt8]

    /// Writes like `write`; `file` holds metadata that later commands read again, so a
    /// caching decorator keeps a local copy too.
    func writeMetadata(_ file: FileName, data: [UInt8]) throws

    /// An empty file to assemble a large file in (a pack) before `write(_:staged:)`. A local
    /// backend makes it on its own file system, so that storing it is a link, not a copy.
    func makeStagedFile() throws -> StagedFile

    /// Stores the bytes of `staged` under `file`, atomically, like `write(_:data:)`.
    func write(_ file: FileName, staged: StagedFile) throws

    /// Writes like `write(_:staged:)`; `file` holds metadata, as for `writeMetadata(_:data:)`.
    func writeMetadata(_ file: FileName, staged: StagedFile) throws
}

extension Backend {
    public func list(kinds: [FileKind]) throws -> KindListing { try KindListing.oneByOne(kinds, from: self) }

    public var listsKindsTogether: Bool { false }

    public func read(_ file: FileName, range: Range<Int>?, isValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        try read(file, range: range)
    }

    public func readMetadata(_ file: FileName, isValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        try read(file, range: nil, isValid: isValid)
    }

    public func readMetadata(_ file: FileName, range: Range<Int>, isValid: ([UInt8]) -> Bool,
                             rangeIsValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        try read(file, range: range, isValid: rangeIsValid)
    }

    public func writeMetadata(_ file: FileName, data: [UInt8]) throws { try write(file, data: data) }

    public func makeStagedFile() throws -> StagedFile { try StagedFile.temporary() }

    /// Reads the staged bytes into memory: right for any backend, if not the leanest.
    public func write(_ file: FileName, staged: StagedFile) throws { try write(file, data: staged.readAll()) }

    public func writeMetadata(_ file: FileName, staged: StagedFile) throws { try write(file, staged: staged) }

    /// Reads the whole of `file`.
    public func read(_ file: FileName) throws -> [UInt8] { try read(file, range: nil) }

    /// Whether `file` exists.
    public func exists(_ file: FileName) throws -> Bool {
        do {
            _ = try stat(file)
            return true
        } catch StorageError.notFound {
            return false
        }
    }
}
