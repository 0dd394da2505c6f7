import SnapHTTP
import SnapStorage

/// A repository behind a server speaking restic's REST backend protocol, version 2
/// (restic's rest-server, `rclone serve restic`).
///
/// Files are `BASE/config` and `BASE/KIND/NAME`; uploads are POST; listings ask for
/// `application/vnd.x.restic.rest.v2` and get JSON `[{"name": …, "size": …}]`.
/// Credentials for HTTP basic authentication come from the caller (environment), never
/// from the location string shown in messages.
public final class RESTBackend: Backend {
    private let base: String
    private let session: CurlSession
    private let authorization: String?
    /// The rclone server this backend talks to, kept running as long as the backend lives.
    private let rclone: RcloneServer?
    public let location: String

    /// - Parameters:
    ///   - url: the repository's base URL, `http(s)://HOST:PORT/PATH/`.
    ///   - username, password: HTTP basic authentication, if the server wants it.
    public convenience init(url: String, username: String? = nil, password: String? = nil, session: CurlSession = CurlSession()) {
        self.init(url: url, username: username, password: password, session: session, rclone: nil)
    }

    /// The repository an `RcloneServer` serves, with its credentials; the server stops once
    /// the backend is gone.
    public convenience init(rclone server: RcloneServer, session: CurlSession = CurlSession()) {
        self.init(url: server.url, username: server.username, password: server.password, session: session, rclone: server)
    }

    private init(url: String, username: String?, password: String?, session: CurlSession, rclone: RcloneServer?) {
        base = url.hasSuffix("/") ? url : url + "/"
        self.session = session
        self.rclone = rclone
        location = "rest:" + base
        if let username, let password {
            authorization = "Basic " + Base64.encode(Array("\(username):\(password)".utf8))
        } else {
            authorization = nil
        }
    }

    private func url(_ file: FileName) -> String {
        file.kind == .config ? base + "config" : "\(base)\(file.kind.rawValue)/\(file.name)"
    }

    private func request(_ method: String, _ url: String) -> Transfer {
        var t = Transfer(url: url)
        t.method = method
        if let authorization { t.headers.append(("Authorization", authorization)) }
        return t
    }

    private func perform(_ t: Transfer, _ operation: String, _ file: FileName?) throws -> TransferResult {
        do {
            return try session.perform(t)
        } catch let e as TransferError {
            throw e.storageError(operation: operation, file: file, location: location)
        }
    }

    /// Creates the repository's folders on the server (`POST BASE?create=true`).
    public func create() throws {
        let r = try perform(request("POST", base + "?create=true"), "create repository", nil)
        guard (200..<300).contains(r.status) else { throw HTTPStatus.error(r, operation: "create repository", file: nil, location: location) }
    }

    public func write(_ file: FileName, data: [UInt8]) throws {
        try write(file) { $0.body = data }
    }

    /// Sends a staged file straight from disk.
    public func write(_ file: FileName, staged: StagedFile) throws {
        try write(file) { $0.bodyFile = FileBody(descriptor: staged.descriptor, count: staged.size) }
    }

    private func write(_ file: FileName, body: (inout Transfer) -> Void) throws {
        var t = request("POST", url(file))
        body(&t)
        t.headers.append(("Content-Type", "application/octet-stream"))
        let r = try perform(t, "write", file)
        guard (200..<300).contains(r.status) else {
            if r.status >= 500 { removePartial(file) }
            throw HTTPStatus.error(r, operation: "write", file: file, location: location)
        }
    }

    /// A server that writes in place (`rclone serve restic` writes as the bytes arrive) keeps
    /// what it got of an upload that failed on its side (a full disk: 500) under the file's
    /// final name, where every later reader finds a damaged file; restic removes it too. Only
    /// after the server's own failure: a 4xx refused the upload before anything was written
    /// (an append-only server, a file that exists), and nothing of ours is there to remove.
    /// Names are never shared between writers (packs, index files and snapshots hold random
    /// nonces), so this removes no one else's file. Best effort: a failure here changes nothing.
    private func removePartial(_ file: FileName) {
        _ = try? perform(request("DELETE", url(file)), "delete", file)
    }

    public func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        var t = request("GET", url(file))
        if let range {
            if range.isEmpty {
                // HTTP cannot ask for zero bytes: check the range fits, then return nothing.
                let size = try stat(file).size
                guard range.lowerBound >= 0, range.upperBound <= size else {
                    throw StorageError.invalidRange(file, range: range, size: size, location: location)
                }
                return []
            }
            t.headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"))
        }
        let r = try perform(t, "read", file)
        if r.status == 416, let range {
            let size = (try? stat(file).size) ?? -1
            throw StorageError.invalidRange(file, range: range, size: size, location: location)
        }
        guard (200..<300).contains(r.status) else { throw HTTPStatus.error(r, operation: "read", file: file, location: location) }
        if let range {
            guard r.status == 206 || range.lowerBound == 0 else {
                throw StorageError.permanent(operation: "read", file: file, location: location, detail: "server ignored the byte range")
            }
            let body = r.status == 206 ? r.body : Array(r.body.prefix(range.count))
            guard body.count == range.count else {
                if r.status == 206 && body.count < range.count, let size = try? stat(file).size, range.upperBound > size {
                    throw StorageError.invalidRange(file, range: range, size: size, location: location)
                }
                throw StorageError.transient(operation: "read", file: file, location: location,
                                             detail: "short read: \(body.count) of \(range.count) bytes")
            }
            return body
        }
        return r.body
    }

    public func stat(_ file: FileName) throws -> FileInfo {
        var t = request("HEAD", url(file))
        t.headOnly = true
        let r = try perform(t, "stat", file)
        guard (200..<300).contains(r.status) else { throw HTTPStatus.error(r, operation: "stat", file: file, location: location) }
        guard let size = r.headers["content-length"].flatMap({ Int($0) }) else {
            throw StorageError.permanent(operation: "stat", file: file, location: location, detail: "no Content-Length in the reply")
        }
        return FileInfo(file: file, size: size, modified: r.storageTime)
    }

    public func list(_ kind: FileKind) throws -> [FileInfo] {
        if kind == .config { return try exists(.config) ? [try stat(.config)] : [] }
        var t = request("GET", "\(base)\(kind.rawValue)/")
        t.headers.append(("Accept", "application/vnd.x.restic.rest.v2"))
        let r = try perform(t, "list", nil)
        if r.status == 404 { return [] }
        guard (200..<300).contains(r.status) else { throw HTTPStatus.error(r, operation: "list \(kind.rawValue)", file: nil, location: location) }
        guard let files = RESTListing.files(r.body, kind: kind) else {
            throw StorageError.permanent(operation: "list \(kind.rawValue)", file: nil, location: location,
                                         detail: "the server's listing is not REST protocol v2 JSON")
        }
        return files
    }

    public func delete(_ file: FileName) throws {
        let r = try perform(request("DELETE", url(file)), "delete", file)
        guard (200..<300).contains(r.status) || r.status == 404 else { throw HTTPStatus.error(r, operation: "delete", file: file, location: location) }
    }
}
