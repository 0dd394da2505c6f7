import Foundation
import Synchronization
import SnapCore
import SnapCrypto
import SnapHTTP
import SnapStorage

/// A repository in an S3 bucket (Amazon S3, Ceph radosgw, or any S3-compatible server).
///
/// Layout, as in `LocalBackend`, below the location's prefix: `config`, `keys/ID`,
/// `index/ID`, `snapshots/ID`, `locks/ID`, `data/XX/ID`.
///
/// Integrity and atomicity: every upload carries `x-amz-content-sha256` (the hex SHA-256
/// of the payload, covered by the signature) and `Content-MD5`, so the server rejects a
/// body damaged in transit; a PUT or a completed multipart upload becomes visible whole or
/// not at all. Uploads above `Options.multipartThreshold` go in parts, and a failed
/// multipart upload is aborted.
///
/// Errors are classified where they happen (see `S3ErrorMapping`). The backend never
/// retries: that is the retry decorator's job, so each call makes exactly the requests it
/// needs (`delete` checks existence first, since S3 deletes missing keys silently).
public final class S3Backend: Backend {
    /// Choices that change requests.
    public struct Options: Sendable {
        /// Object Lock retention modes.
        public enum LockMode: String, Sendable {
            case compliance = "COMPLIANCE"
            case governance = "GOVERNANCE"
        }

        /// Retention applied to every object written.
        public struct ObjectLock: Sendable, Equatable {
            public var mode: LockMode
            /// Objects cannot be deleted or overwritten until this many days after the write.
            public var days: Int
            public init(mode: LockMode, days: Int) { self.mode = mode; self.days = days }
        }

        /// Sends `If-None-Match: *`, so a write never replaces an existing object. A refused
        /// write (412) counts as done when the existing object has the same size, since names
        /// are content hashes.
        public var ifNoneMatch = false
        /// `x-amz-storage-class` for every object (for example `STANDARD_IA`); `nil` for the bucket's default.
        public var storageClass: String?
        /// Object Lock retention for every object; the bucket must have Object Lock enabled.
        public var objectLock: ObjectLock?
        /// Files larger than this go up as multipart uploads.
        public var multipartThreshold = 64 << 20
        /// Size of each part but the last (S3's minimum is 5 MiB).
        public var partSize = 16 << 20
        /// Keys per listing page (S3 allows 1 to 1000).
        public var maxKeys = 1000
        /// Test hook: sends a `Content-MD5` that does not match the body, to check that the server refuses it.
        var corruptContentMD5 = false

        public init(ifNoneMatch: Bool = false, storageClass: String? = nil, objectLock: ObjectLock? = nil,
                    multipartThreshold: Int = 64 << 20, partSize: Int = 16 << 20, maxKeys: Int = 1000) {
            self.ifNoneMatch = ifNoneMatch
            self.storageClass = storageClass
            self.objectLock = objectLock
            self.multipartThreshold = multipartThreshold
            self.partSize = partSize
            self.maxKeys = maxKeys
        }
    }

    /// S3's smallest part size (all parts but the last).
    public static let minimumPartSize = 5 << 20
    /// S3's largest number of parts in one upload.
    static let maximumParts = 10_000

    public let s3: S3Location
    public let options: Options
    let credentials: S3Credentials
    let signer: SigV4
    let session: CurlSession
    /// Requests sent so far (for tests that check no call retries on its own).
    let requestCount = Atomic<Int>(0)

    public var location: String { s3.description }

    /// - Parameters:
    ///   - location: where the repository is.
    ///   - credentials: the key pair that signs every request.
    ///   - options: request choices (conditional writes, storage class, retention, part sizes).
    ///   - session: the libcurl handle pool to use; a private one by default.
    /// - Throws: `S3ConfigurationError` when an option is out of range.
    public init(location: S3Location, credentials: S3Credentials, options: Options = Options(),
                session: CurlSession = CurlSession()) throws {
        guard options.partSize >= Self.minimumPartSize else {
            throw S3ConfigurationError("the multipart part size must be at least 5 MiB, got \(options.partSize) bytes")
        }
        guard options.multipartThreshold >= 0 else {
            throw S3ConfigurationError("the multipart threshold must not be negative")
        }
        guard (1...1000).contains(options.maxKeys) else {
            throw S3ConfigurationError("max-keys must be from 1 to 1000, got \(options.maxKeys)")
        }
        if let storageClass = options.storageClass {
            let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
            guard !storageClass.isEmpty, storageClass.allSatisfy({ allowed.contains($0) }) else {
                throw S3ConfigurationError("\"\(storageClass)\" is not a storage class (upper-case letters, digits and _, such as STANDARD_IA)")
            }
        }
        if let lock = options.objectLock, lock.days < 1 {
            throw S3ConfigurationError("object lock retention must be at least 1 day, got \(lock.days)")
        }
        self.s3 = location
        self.options = options
        self.credentials = credentials
        self.signer = SigV4(accessKeyID: credentials.accessKeyID, secretAccessKey: credentials.secretAccessKey,
                            region: location.region, service: "s3")
        self.session = session
    }

    /// The object key of `file`.
    public func objectKey(_ file: FileName) -> String {
        switch file.kind {
        case .config: return s3.key("config")
        case .data: return s3.key("data/\(file.name.prefix(2))/\(file.name)")
        default: return s3.key("\(file.kind.rawValue)/\(file.name)")
        }
    }

    // MARK: - Backend

    public func write(_ file: FileName, data: [UInt8]) throws {
        if data.count > options.multipartThreshold && !data.isEmpty {
            try writeMultipart(file, data: data)
            return
        }
        try put(file, S3Request(method: "PUT", key: objectKey(file), headers: try integrityHeaders(for: data, file: file), body: data),
                size: data.count)
    }

    /// Uploads a staged file straight from disk: it is read once for its MD5 (and its
    /// SHA-256, unless its maker gave it), and again as it is sent. Above the multipart
    /// threshold it goes in parts, from memory.
    public func write(_ file: FileName, staged: StagedFile) throws {
        guard staged.size <= options.multipartThreshold else { return try write(file, data: staged.readAll()) }
        var sha256 = staged.sha256
        let sha256Hasher = sha256 == nil ? try SHA256Hasher() : nil
        let md5: [UInt8]
        do {
            let md5Hasher = try MD5Hasher()
            try staged.forEachPiece {
                sha256Hasher?.update($0)
                try md5Hasher.update($0)
            }
            md5 = try md5Hasher.finalize()
        } catch let error as CryptoError {
            throw StorageError.permanent(operation: "write", file: file, location: location, detail: "cannot compute Content-MD5: \(error)")
        }
        var request = S3Request(method: "PUT", key: objectKey(file), headers: integrityHeaders(md5: md5))
        request.bodyFile = FileBody(descriptor: staged.descriptor, count: staged.size)
        if let sha256Hasher { sha256 = sha256Hasher.finalize() }
        request.payloadHash = sha256.map { Hex.encode($0) }
        try put(file, request, size: staged.size)
    }

    /// Sends a single-request upload of `size` bytes with the creation headers (and
    /// `If-None-Match`); an existing object of that size counts as written.
    private func put(_ file: FileName, _ request: S3Request, size: Int) throws {
        var request = request
        request.headers += creationHeaders(retainUntil: retainUntil())
        if options.ifNoneMatch { request.headers.append(("if-none-match", "*")) }
        let result = try send(request, operation: "write", file: file)
        if (200...299).contains(result.status) { return }
        if result.status == 412 && options.ifNoneMatch {
            try confirmExisting(file, size: size)
            return
        }
        throw failure(result, operation: "write", file: file)
    }

    public func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        guard let range else { return try readWhole(file) }
        if range.lowerBound < 0 || range.isEmpty {
            // Nothing to fetch: only existence and bounds matter.
            let size = try stat(file).size
            guard range.lowerBound >= 0, range.upperBound <= size else {
                throw StorageError.invalidRange(file, range: range, size: size, location: location)
            }
            return []
        }
        let result = try send(S3Request(method: "GET", key: objectKey(file),
                                        headers: [("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")]),
                              operation: "read", file: file)
        switch result.status {
        case 206:
            if result.body.count == range.count { return result.body }
            if let total = Self.totalSize(fromContentRange: result.headers["content-range"]), range.upperBound > total {
                throw StorageError.invalidRange(file, range: range, size: total, location: location)
            }
            throw StorageError.transient(operation: "read", file: file, location: location,
                                         detail: "short read: got \(result.body.count) of \(range.count) bytes")
        case 200:
            // The server ignored the range and sent the whole object.
            guard range.upperBound <= result.body.count else {
                throw StorageError.invalidRange(file, range: range, size: result.body.count, location: location)
            }
            return Array(result.body[range])
        case 416:
            let size = try Self.totalSize(fromContentRange: result.headers["content-range"]) ?? stat(file).size
            throw StorageError.invalidRange(file, range: range, size: size, location: location)
        default:
            throw failure(result, operation: "read", file: file)
        }
    }

    public func stat(_ file: FileName) throws -> FileInfo {
        let result = try send(S3Request(method: "HEAD", key: objectKey(file)), operation: "stat", file: file)
        guard result.status == 200 else { throw failure(result, operation: "stat", file: file) }
        guard let size = result.headers["content-length"].flatMap({ Int($0) }) ?? (result.contentLength >= 0 ? result.contentLength : nil) else {
            throw StorageError.transient(operation: "stat", file: file, location: location,
                                         detail: "the response has no Content-Length")
        }
        return FileInfo(file: file, size: size, modified: result.storageTime)
    }

    public func delete(_ file: FileName) throws {
        let result = try send(S3Request(method: "DELETE", key: objectKey(file)), operation: "delete", file: file)
        guard (200...299).contains(result.status) else { throw failure(result, operation: "delete", file: file) }
    }

    // MARK: - Helpers

    /// A whole-object GET whose length must match what the server announced.
    private func readWhole(_ file: FileName) throws -> [UInt8] {
        let result = try send(S3Request(method: "GET", key: objectKey(file)), operation: "read", file: file)
        guard result.status == 200 else { throw failure(result, operation: "read", file: file) }
        if let announced = result.headers["content-length"].flatMap({ Int($0) }), announced != result.body.count {
            throw StorageError.transient(operation: "read", file: file, location: location,
                                         detail: "short read: got \(result.body.count) of \(announced) bytes")
        }
        return result.body
    }

    /// After a 412 to `If-None-Match: *`: the object exists; accept it if it has the size we meant to write.
    func confirmExisting(_ file: FileName, size: Int) throws {
        let existing = try stat(file).size
        guard existing == size else {
            throw StorageError.permanent(operation: "write", file: file, location: location,
                                         detail: "an object of \(existing) bytes already exists under this name, and If-None-Match forbids replacing it with \(size) bytes")
        }
    }

    /// `Content-MD5` (base64) and `Content-Type` for a body.
    func integrityHeaders(for body: [UInt8], file: FileName?, contentType: String = "application/octet-stream") throws
        -> [(name: String, value: String)] {
        let md5: [UInt8]
        do {
            md5 = try MD5.hash(body)
        } catch {
            throw StorageError.permanent(operation: "write", file: file, location: location, detail: "cannot compute Content-MD5: \(error)")
        }
        return integrityHeaders(md5: md5, contentType: contentType)
    }

    /// `Content-MD5` (base64) and `Content-Type` for a body whose MD5 is `md5`.
    func integrityHeaders(md5: [UInt8], contentType: String = "application/octet-stream") -> [(name: String, value: String)] {
        var md5 = md5
        if options.corruptContentMD5 { md5[0] ^= 0xff }
        return [("content-md5", Data(md5).base64EncodedString()), ("content-type", contentType)]
    }

    /// The end of the retention for an object written now (ISO 8601), or `nil` without Object Lock.
    func retainUntil() -> String? {
        options.objectLock.map { S3Time.iso8601(S3Time.now() + Int64($0.days) * 86_400) }
    }

    /// Storage class and retention headers for a new object.
    func creationHeaders(retainUntil: String?) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        if let storageClass = options.storageClass { headers.append(("x-amz-storage-class", storageClass)) }
        if let lock = options.objectLock, let retainUntil {
            headers.append(("x-amz-object-lock-mode", lock.mode.rawValue))
            headers.append(("x-amz-object-lock-retain-until-date", retainUntil))
        }
        return headers
    }

    /// The object size in a `Content-Range` header (`bytes a-b/size` or `bytes */size`).
    static func totalSize(fromContentRange header: String?) -> Int? {
        guard let header, let slash = header.lastIndex(of: "/") else { return nil }
        return Int(String(header[header.index(after: slash)...]).trimmingSpaces())
    }

    /// The error for a response that is not a success.
    func failure(_ result: TransferResult, operation: String, file: FileName?) -> StorageError {
        S3ErrorMapping.error(status: result.status, headers: result.headers, body: result.body,
                             operation: operation, file: file, location: location)
    }

    // MARK: - Requests

    /// One S3 request before signing.
    struct S3Request {
        var method: String
        /// The full object key, or `nil` for the bucket itself.
        var key: String?
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body: [UInt8]?
        /// A body read from a file instead, with its SHA-256 (hex) in `payloadHash`.
        var bodyFile: FileBody?
        var payloadHash: String?

        init(method: String, key: String?, query: [(name: String, value: String)] = [],
             headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
            self.method = method; self.key = key; self.query = query; self.headers = headers; self.body = body
        }
    }

    /// Signs and sends `request`; HTTP error statuses come back as results.
    ///
    /// - Throws: `StorageError` when no response arrived.
    func send(_ request: S3Request, operation: String, file: FileName?) throws -> TransferResult {
        let amzDate = S3Time.amzDate(S3Time.now())
        let payloadHash = request.payloadHash ?? request.body.map { Hex.encode(SHA256.hash($0)) } ?? SigV4.emptyPayloadHash
        var headers: [(name: String, value: String)] = [
            ("host", s3.hostHeader), ("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash),
        ]
        if let token = credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        headers += request.headers
        let signable = SigV4.Request(method: request.method, canonicalURI: s3.canonicalURI(key: request.key),
                                     query: request.query, headers: headers, payloadHash: payloadHash)
        headers.append(("authorization", signer.authorization(for: signable, amzDate: amzDate)))

        var transfer = Transfer(url: s3.url(key: request.key, query: request.query))
        transfer.method = request.method
        transfer.headers = headers
        transfer.body = request.body
        transfer.bodyFile = request.bodyFile
        transfer.headOnly = request.method == "HEAD"
        requestCount.add(1, ordering: .relaxed)
        do {
            return try session.perform(transfer)
        } catch let error as TransferError {
            throw error.storageError(operation: operation, file: file, location: location)  // HTTPStatus.swift
        }
    }
}
