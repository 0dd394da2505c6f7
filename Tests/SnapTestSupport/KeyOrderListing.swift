import SnapStorage

extension KindListing {
    /// Lists `kinds` of `base` one after another in key order (`data/` before `index/` before
    /// `locks/` before `snapshots/`), as S3's one listing goes, calling `between` after each
    /// kind so that a test can write files while the listing runs.
    public static func inKeyOrder(_ kinds: [FileKind], from base: Backend, began: Double? = nil,
                                  between: (FileKind) -> Void = { _ in }) throws -> KindListing {
        var files: [FileKind: [FileInfo]] = [:]
        for kind in Set(kinds).sorted(by: { $0.rawValue < $1.rawValue }) {
            files[kind] = try base.list(kind)
            between(kind)
        }
        return KindListing(files: files, inRequestedOrder: false, began: began)
    }
}
