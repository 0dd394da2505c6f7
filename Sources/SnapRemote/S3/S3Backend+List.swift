import Foundation
import SnapStorage

extension S3Backend {
    /// Lists a kind's folder with ListObjectsV2, page by page (`Options.maxKeys` keys a page,
    /// following `NextContinuationToken`). Keys that are not well-formed names of the kind
    /// (anything but 64 lower-case hex digits, or a pack outside its `XX/` folder) are skipped.
    public func list(_ kind: FileKind) throws -> [FileInfo] {
        if kind == .config {
            do { return [try stat(.config)] } catch StorageError.notFound { return [] }
        }
        let folder = s3.key("\(kind.rawValue)/")
        var result: [FileInfo] = []
        var seen: Set<String> = []
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [
                ("list-type", "2"), ("prefix", folder), ("max-keys", String(options.maxKeys)),
            ]
            if let token { query.append(("continuation-token", token)) }
            let response = try send(S3Request(method: "GET", key: nil, query: query), operation: "list", file: nil)
            guard response.status == 200 else { throw failure(response, operation: "list", file: nil) }
            guard let page = Self.listPage(response.body, folder: folder, kind: kind) else {
                if S3ErrorBody(response.body) != nil { throw failure(response, operation: "list", file: nil) }
                throw StorageError.transient(operation: "list", file: nil, location: location,
                                             detail: "the listing is not a ListBucketResult document")
            }
            for info in page.files where seen.insert(info.file.name).inserted { result.append(info) }
            token = page.isTruncated ? page.token : nil
            if page.isTruncated && (token ?? "").isEmpty {
                throw StorageError.transient(operation: "list", file: nil, location: location,
                                             detail: "a truncated listing came without a continuation token")
            }
        } while token != nil
        return result
    }

    /// One ListObjectsV2 page: the well-formed files of `kind` in it (with sizes that are
    /// non-negative integers, and the storage's `LastModified` time where it parses),
    /// whether more pages follow, and the token for the next one. `nil` when `body` is not
    /// a `ListBucketResult` document.
    static func listPage(_ body: [UInt8], folder: String, kind: FileKind) -> (files: [FileInfo], isTruncated: Bool, token: String?)? {
        guard let page = S3XMLNode.parse(body), page.name == "ListBucketResult" else { return nil }
        var files: [FileInfo] = []
        let times = S3ListingTime()
        for entry in page.children("Contents") {
            guard let key = entry.text(of: "Key"), let size = entry.text(of: "Size").flatMap({ Int($0.trimmingSpaces()) }), size >= 0,
                  let name = fileName(ofKey: key, folder: folder, kind: kind) else { continue }
            files.append(FileInfo(file: FileName(kind, name), size: size, modified: entry.text(of: "LastModified").flatMap(times.seconds)))
        }
        let truncated = page.text(of: "IsTruncated")?.trimmingSpaces().lowercased() == "true"
        return (files, truncated, page.text(of: "NextContinuationToken"))
    }

    /// The file name in `key` (which is below `folder`), or `nil` if the key is not a well-formed file of `kind`.
    static func fileName(ofKey key: String, folder: String, kind: FileKind) -> String? {
        guard key.hasPrefix(folder) else { return nil }
        let rest = key.dropFirst(folder.count)
        let name: Substring
        if kind == .data {
            let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].count == 2, parts[1].hasPrefix(parts[0]) else { return nil }
            name = parts[1]
        } else {
            name = rest
        }
        guard name.utf8.count == 64, name.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        return String(name)
    }
}

/// `LastModified` of a listing entry (ISO 8601 in UTC, `2026-12-05T06:40:01.123Z`, with or
/// without the fraction) in seconds since 1970, read by Foundation's ISO 8601 parser. Locks
/// take the storage's time of a lock from the listing that follows its writing, instead of a
/// `HEAD` request (`RepositoryLock`).
struct S3ListingTime {
    private let withFraction = ISO8601DateFormatter()
    private let whole = ISO8601DateFormatter()

    init() { withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds] }

    func seconds(_ text: String) -> Double? {
        let text = text.trimmingSpaces()
        return (withFraction.date(from: text) ?? whole.date(from: text))?.timeIntervalSince1970
    }
}
