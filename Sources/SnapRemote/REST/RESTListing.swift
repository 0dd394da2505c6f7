import Foundation
import SnapStorage

/// Parses a REST protocol v2 listing: `[{"name": "…", "size": 123}, …]`.
enum RESTListing {
    struct Entry: Decodable {
        let name: String
        let size: Int
    }

    static func parse(_ body: [UInt8]) -> [Entry]? {
        try? JSONDecoder().decode([Entry].self, from: Data(body))
    }

    /// The files of `kind` in a listing, or `nil` when `body` is not a listing. As with S3,
    /// entries that are not well-formed names of the kind (64 lower-case hex digits) or
    /// that have a negative size are skipped: a name from the server never becomes a path
    /// such as `../keys/…` that a later delete or a mirror's copy would act on.
    static func files(_ body: [UInt8], kind: FileKind) -> [FileInfo]? {
        guard let entries = parse(body) else { return nil }
        return entries.compactMap { entry in
            guard entry.size >= 0, entry.name.utf8.count == 64,
                  entry.name.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
            return FileInfo(file: FileName(kind, entry.name), size: entry.size)
        }
    }
}
