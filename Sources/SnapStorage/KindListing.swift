/// The files of several kinds, listed by one `Backend.list(kinds:)` call.
///
/// A backup writes packs (`data/`), then the index files naming them, then the snapshot;
/// a reader that lists `snapshots/` before `index/` before `data/` therefore never sees a
/// snapshot without its index files, nor an index file without its packs. Kinds listed one
/// after another in the order asked keep that guarantee (`inRequestedOrder`). A provider
/// that lists them together (S3: one listing in key order, `data/` before `index/` before
/// `snapshots/`) does not: a file written while the listing runs may show in a later kind
/// while what it depends on was missed in an earlier one, and callers that need the
/// guarantee list again kind by kind when what they find disagrees (`Checker`).
public struct KindListing: Sendable {
    /// The files of each kind asked for.
    public var files: [FileKind: [FileInfo]]
    /// Whether the kinds were listed one after another, in the order asked.
    public var inRequestedOrder: Bool
    /// A storage time (the server's clock, seconds since 1970) at or before which the
    /// listing began, where the provider knows one (S3: the `Date` of its first page less
    /// that page's round trip); `nil` otherwise.
    public var began: Double?

    public init(files: [FileKind: [FileInfo]], inRequestedOrder: Bool, began: Double? = nil) {
        self.files = files
        self.inRequestedOrder = inRequestedOrder
        self.began = began
    }

    /// The margin by which a file's storage time must precede `began` for `includesWhatPreceded`:
    /// covers a write's own duration and the clocks of several servers behind one endpoint.
    public static let clockMargin = 2.0

    /// Whether this listing holds every file of the kinds asked after `file`'s kind that was
    /// stored before `file` was: a snapshot's index files, for a reader that found the
    /// snapshot here. True when the kinds were listed in the order asked; otherwise only
    /// when `file` was stored more than `clockMargin` seconds before the listing began, so
    /// that what preceded it was there for the whole listing.
    public func includesWhatPreceded(_ file: FileInfo) -> Bool {
        if inRequestedOrder { return true }
        guard let began, let stored = file.modified else { return false }
        return stored + Self.clockMargin < began
    }

    /// Lists `kinds` one after another with `backend.list(_:)`.
    public static func oneByOne(_ kinds: [FileKind], from backend: Backend) throws -> KindListing {
        var files: [FileKind: [FileInfo]] = [:]
        for kind in kinds where files[kind] == nil { files[kind] = try backend.list(kind) }
        return KindListing(files: files, inRequestedOrder: true)
    }

    /// The files of `kind`; empty when it was not asked for.
    public subscript(kind: FileKind) -> [FileInfo] { files[kind] ?? [] }
}
