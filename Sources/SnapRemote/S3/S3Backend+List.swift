import Foundation
import SnapHTTP
import SnapStorage

extension S3Backend {
    /// Lists a kind's folder with ListObjectsV2, page by page (`Options.maxKeys` keys a page,
    /// following `NextContinuationToken`). Keys that are not well-formed names of the kind
    /// (anything but 64 lower-case hex digits, or a pack outside its `XX/` folder) are skipped.
    public func list(_ kind: FileKind) throws -> [FileInfo] {
        if kind == .config {
            do { return [try stat(.config)] } catch StorageError.notFound { return [] }
        }
        return try listKeys(prefix: s3.key("\(kind.rawValue)/"), startAfter: nil, kinds: [kind]).entries.map(\.info)
    }

    /// Lists the folders of `kinds` together: one listing of the repository's keys from the
    /// first of those folders in key order to the end of the last (`config`, `data/`,
    /// `index/`, `keys/`, `locks/`, `snapshots/`), skipping the folders between that were not
    /// asked for. A small repository's `index/`, `locks/` and `snapshots/` thus take one
    /// request instead of three. The folders are not listed at one instant, and `data/` comes
    /// first: `KindListing.inRequestedOrder` is false, and `KindListing.began` is the
    /// server's `Date` on the first page less that page's round trip.
    public func list(kinds: [FileKind]) throws -> KindListing {
        let asked = Set(kinds).subtracting([.config])
        guard asked.count > 1 else { return try KindListing.oneByOne(kinds, from: self) }
        let folders = asked.map(\.rawValue).sorted()
        let root = s3.key("")
        // "data" sorts just before "data/…"; "data0" just after every key below "data/".
        let listed = try listKeys(prefix: root, startAfter: root + folders[0], kinds: asked,
                                  endAfter: root + folders[folders.count - 1] + "0")
        var files: [FileKind: [FileInfo]] = [:]
        for kind in kinds where kind != .config { files[kind] = [] }
        if kinds.contains(.config) { files[.config] = try list(.config) }
        for entry in listed.entries { files[entry.info.file.kind, default: []].append(entry.info) }
        return KindListing(files: files, inRequestedOrder: false, began: listed.began)
    }

    /// True: `list(kinds:)` is one listing (page by page) for any number of folders.
    public var listsKindsTogether: Bool { true }

    /// The well-formed files of `kinds` among the keys below `prefix`, after `startAfter`,
    /// until a page ends at or beyond `endAfter`; and a server time at or before which the
    /// listing began: the first page's `Date` (whole seconds, rounded down, so never later
    /// than the reply) less the page's round trip (so never later than the request's arrival).
    private func listKeys(prefix: String, startAfter: String?, kinds: Set<FileKind>,
                          endAfter: String? = nil) throws -> (entries: [(key: String, info: FileInfo)], began: Double?) {
        var result: [(key: String, info: FileInfo)] = []
        var began: Double?
        var firstPage = true
        var seen: Set<String> = []
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [
                ("list-type", "2"), ("prefix", prefix), ("max-keys", String(options.maxKeys)),
            ]
            if let token { query.append(("continuation-token", token)) } else if let startAfter { query.append(("start-after", startAfter)) }
            let sent = ProcessInfo.processInfo.systemUptime
            let response = try send(S3Request(method: "GET", key: nil, query: query), operation: "list", file: nil)
            guard response.status == 200 else { throw failure(response, operation: "list", file: nil) }
            if firstPage, let date = response.headers["date"].flatMap(HTTPDate.parse) {
                began = date - (ProcessInfo.processInfo.systemUptime - sent)
            }
            firstPage = false
            guard let page = Self.listPage(response.body, root: s3.key(""), kinds: kinds) else {
                if S3ErrorBody(response.body) != nil { throw failure(response, operation: "list", file: nil) }
                throw StorageError.transient(operation: "list", file: nil, location: location,
                                             detail: "the listing is not a ListBucketResult document")
            }
            for entry in page.files where seen.insert(entry.key).inserted { result.append(entry) }
            token = page.isTruncated ? page.token : nil
            if page.isTruncated && (token ?? "").isEmpty {
                throw StorageError.transient(operation: "list", file: nil, location: location,
                                             detail: "a truncated listing came without a continuation token")
            }
            if let endAfter, let last = page.lastKey, last >= endAfter { token = nil }
        } while token != nil
        return (result, began)
    }

    /// One ListObjectsV2 page: the well-formed files of `kinds` in it (below `root`, with
    /// sizes that are non-negative integers, and the storage's `LastModified` time where it
    /// parses), the last key on the page, whether more pages follow, and the token for the
    /// next one. `nil` when `body` is not a `ListBucketResult` document.
    static func listPage(_ body: [UInt8], root: String, kinds: Set<FileKind>)
        -> (files: [(key: String, info: FileInfo)], lastKey: String?, isTruncated: Bool, token: String?)? {
        guard let page = S3XMLNode.parse(body), page.name == "ListBucketResult" else { return nil }
        var files: [(key: String, info: FileInfo)] = []
        var lastKey: String?
        let times = S3ListingTime()
        for entry in page.children("Contents") {
            guard let key = entry.text(of: "Key") else { continue }
            lastKey = key
            let rest = key.dropFirst(root.count)
            guard key.hasPrefix(root), let slash = rest.firstIndex(of: "/"),
                  let kind = FileKind(rawValue: String(rest[..<slash])), kinds.contains(kind),
                  let size = entry.text(of: "Size").flatMap({ Int($0.trimmingSpaces()) }), size >= 0,
                  let name = fileName(ofKey: key, folder: "\(root)\(kind.rawValue)/", kind: kind) else { continue }
            files.append((key, FileInfo(file: FileName(kind, name), size: size,
                                        modified: entry.text(of: "LastModified").flatMap(times.seconds))))
        }
        let truncated = page.text(of: "IsTruncated")?.trimmingSpaces().lowercased() == "true"
        return (files, lastKey, truncated, page.text(of: "NextContinuationToken"))
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
        let text = Self.fractionCut(text.trimmingSpaces())
        return (withFraction.date(from: text) ?? whole.date(from: text))?.timeIntervalSince1970
    }

    /// The most digits of a fraction of a second passed on (nanoseconds).
    static let fractionDigits = 9

    /// `text` with a fraction of a second cut to `fractionDigits`: a listing comes from the
    /// server, and Foundation's parser dies of a division fault (SIGFPE) on a fraction of a
    /// hundred digits (found by the `s3xml` fuzz target), where digits past nanoseconds add
    /// nothing anyway.
    static func fractionCut(_ text: String) -> String {
        guard let dot = text.firstIndex(of: ".") else { return text }
        let start = text.index(after: dot)
        let digits = text[start...].prefix { $0.isASCII && $0.isNumber }
        guard digits.count > fractionDigits else { return text }
        return String(text[..<start]) + digits.prefix(fractionDigits) + text[digits.endIndex...]
    }
}
