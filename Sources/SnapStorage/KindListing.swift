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

    public init(files: [FileKind: [FileInfo]], inRequestedOrder: Bool) {
        self.files = files
        self.inRequestedOrder = inRequestedOrder
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
