import XCTest
import SnapCrypto
import SnapStorage
import SnapTestSupport
@testable import SnapRemote

/// S3Backend against a real S3 server (radosgw under scripts/test-servers), each test on
/// its own new bucket.
final class S3ServerTests: XCTestCase {
    private var server: S3TestServer!
    private var created: [S3Backend] = []

    override func setUpWithError() throws { server = try S3TestServer.fromEnvironment() }

    override func tearDown() {
        for backend in created { server.remove(backend) }
        created = []
    }

    private func fresh(prefix: String = "repo", options: S3Backend.Options = .init(), objectLock: Bool = false) throws -> S3Backend {
        let backend = try server.freshBackend(prefix: prefix, options: options, objectLock: objectLock)
        created.append(backend)
        return backend
    }

    private func id(_ n: Int) -> String { BackendConformance.fileName(n) }

    private func requests(_ backend: S3Backend) -> Int { backend.requestCount.load(ordering: .relaxed) }

    /// Every check of the conformance suite, each on a new bucket.
    private func runConformance(options: S3Backend.Options = .init(), prefix: String = "repo", only: Set<String>? = nil,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        var previous: S3Backend?
        defer { if let previous { server.remove(previous) } }
        try BackendConformance.run(makeBackend: {
            if let previous { server.remove(previous) }
            let backend = try server.freshBackend(prefix: prefix, options: options)
            previous = backend
            return backend
        }, only: only, file: file, line: line)
    }

    func testConformance() throws {
        try runConformance()
    }

    // With If-None-Match: * on every write, rewriting identical content still succeeds (412 is
    // accepted when the object has the same size), concurrent writers of one name included.
    func testConformanceWithIfNoneMatch() throws {
        try runConformance(options: .init(ifNoneMatch: true))
    }

    // A prefix with characters that need encoding (space, non-ASCII, '+') in paths and in the list prefix.
    func testConformanceWithAPrefixThatNeedsEncoding() throws {
        try runConformance(prefix: "my backups/ü+x", only: ["writeThenRead", "listReturnsExactlyEachKind", "deleteRemoves", "configFile"])
    }

    // The bucket's root as the repository (no prefix).
    func testConformanceAtTheBucketRoot() throws {
        try runConformance(prefix: "", only: ["listReturnsExactlyEachKind", "missingFileIsNotFound"])
    }

    // 12 MiB above a 5 MiB threshold goes up in three parts (5 + 5 + 2 MiB) and reads back whole and across part edges.
    func testMultipartRoundTrip() throws {
        let backend = try fresh(options: .init(multipartThreshold: 5 << 20, partSize: 5 << 20))
        let file = FileName(.data, id(1))
        let data = seededBytes(count: 12 << 20, seed: 1)
        let before = requests(backend)
        try backend.write(file, data: data)
        XCTAssertEqual(requests(backend) - before, 5, "create, three parts, complete")
        XCTAssertEqual(try backend.stat(file).size, data.count)
        XCTAssertTrue(sameBytes(try backend.read(file), data))
        let edge = (5 << 20) - 10..<(5 << 20) + 10
        XCTAssertEqual(try backend.read(file, range: edge), Array(data[edge]))
        XCTAssertEqual(try backend.list(.data), [FileInfo(file: file, size: data.count)])
        XCTAssertEqual(try pendingUploads(backend), 0)
    }

    // A multipart upload whose parts the server refuses is aborted: no object, no parts left.
    func testFailedMultipartUploadIsAborted() throws {
        var options = S3Backend.Options(multipartThreshold: 5 << 20, partSize: 5 << 20)
        options.corruptContentMD5 = true
        let backend = try fresh(options: options)
        let file = FileName(.data, id(2))
        XCTAssertThrowsError(try backend.write(file, data: seededBytes(count: 11 << 20, seed: 2)))
        XCTAssertFalse(try backend.exists(file))
        XCTAssertEqual(try pendingUploads(backend), 0)
    }

    // With two keys a page, listing follows continuation tokens to the end.
    func testListPagination() throws {
        let backend = try fresh(options: .init(maxKeys: 2))
        var expected: Set<FileInfo> = []
        for i in 0..<5 {
            let file = FileName(.snapshots, id(10 + i))
            try backend.write(file, data: seededBytes(count: 10 + i, seed: UInt64(i)))
            expected.insert(FileInfo(file: file, size: 10 + i))
        }
        let before = requests(backend)
        let listed = try backend.list(.snapshots)
        XCTAssertEqual(requests(backend) - before, 3, "5 keys at 2 a page")
        XCTAssertEqual(Set(listed), expected)
        XCTAssertEqual(listed.count, 5)

        var packs: Set<FileInfo> = []
        for (i, head) in ["00", "00", "7f", "ff", "ff"].enumerated() {
            let file = FileName(.data, head + id(20 + i).dropFirst(2))
            try backend.write(file, data: [UInt8(i)])
            packs.insert(FileInfo(file: file, size: 1))
        }
        XCTAssertEqual(Set(try backend.list(.data)), packs)
    }

    // Several folders are listed in one listing, page by page: index/, locks/ and snapshots/
    // without a page of data/, and the keys between them skipped.
    func testKindsAreListedTogether() throws {
        let backend = try fresh(options: .init(maxKeys: 3))
        var expected: [FileKind: Set<FileInfo>] = [:]
        func add(_ file: FileName) throws {
            try backend.write(file, data: [1, 2, 3])
            expected[file.kind, default: []].insert(FileInfo(file: file, size: 3))
        }
        try backend.write(.config, data: [0])
        for i in 0..<7 { try add(FileName(.data, id(100 + i))) }
        for i in 0..<2 { try add(FileName(.index, id(200 + i))) }
        for i in 0..<3 { try add(FileName(.keys, id(300 + i))) }
        try add(FileName(.locks, id(400)))
        for i in 0..<2 { try add(FileName(.snapshots, id(500 + i))) }

        var before = requests(backend)
        let asked = Date().timeIntervalSince1970
        let small = try backend.list(kinds: [.locks, .snapshots, .index])
        XCTAssertFalse(small.inRequestedOrder)
        // The server's clock is this machine's: the start it reports precedes the reply, and
        // comes after the files were written (less the Date header's whole seconds).
        let began = try XCTUnwrap(small.began, "the first page's Date gives the listing's start")
        XCTAssertLessThanOrEqual(began, Date().timeIntervalSince1970 + 0.5)
        XCTAssertGreaterThan(began, asked - 2)
        let newest = try XCTUnwrap(small[.snapshots].compactMap(\.modified).max())
        XCTAssertFalse(small.includesWhatPreceded(try XCTUnwrap(small[.snapshots].first { $0.modified == newest })),
                       "a snapshot written a moment ago is not known to precede the listing")
        XCTAssertEqual(requests(backend) - before, 3, "8 keys from index/ on, 3 a page, none of data/")
        for kind: FileKind in [.locks, .snapshots, .index] {
            XCTAssertEqual(Set(small[kind]), expected[kind], "\(kind)")
            XCTAssertTrue(small[kind].allSatisfy { $0.modified != nil }, "radosgw listings carry times")
        }
        XCTAssertNil(small.files[.keys])

        before = requests(backend)
        let all = try backend.list(kinds: [.data, .index])
        XCTAssertEqual(requests(backend) - before, 4, "9 keys of data/ and index/, 3 a page, then the page that passes index/")
        XCTAssertEqual(Set(all[.data]), expected[.data])
        XCTAssertEqual(Set(all[.index]), expected[.index])
    }

    // A wrong secret gives one permanent error per call (one request: nothing retries inside the
    // backend) that says the credentials were refused and does not contain the secret.
    func testWrongSecretIsOnePermanentErrorWithoutTheSecret() throws {
        let good = try fresh()
        let file = FileName(.keys, id(30))
        try good.write(file, data: [1, 2, 3])
        let wrongSecret = "Wrong\(try S3TestServer.freshBucketName())Secret"
        let bad = try server.sibling(of: good, credentials: S3Credentials(accessKeyID: server.credentials.accessKeyID,
                                                                          secretAccessKey: wrongSecret))
        let calls: [(String, () throws -> Void)] = [
            ("write", { try bad.write(FileName(.keys, self.id(31)), data: [9]) }),
            ("read", { _ = try bad.read(file) }),
            ("ranged read", { _ = try bad.read(file, range: 0..<2) }),
            ("stat", { _ = try bad.stat(file) }),
            ("list", { _ = try bad.list(.keys) }),
            ("delete", { try bad.delete(file) }),
        ]
        for (name, call) in calls {
            let before = requests(bad)
            XCTAssertThrowsError(try call(), name) { error in
                guard case .permanent = error as? StorageError else { return XCTFail("\(name): not permanent: \(error)") }
                let text = String(describing: error)
                XCTAssertTrue(text.contains("refused the credentials"), "\(name): \(text)")
                XCTAssertFalse(text.contains(wrongSecret), "\(name) leaks the secret: \(text)")
                XCTAssertFalse(text.contains(server.credentials.secretAccessKey), "\(name): \(text)")
            }
            XCTAssertEqual(requests(bad) - before, 1, "\(name) sent more than one request")
        }
        XCTAssertEqual(try good.read(file), [1, 2, 3], "the refused calls changed nothing")
    }

    // A large upload with a wrong secret is refused the same way, not as a broken connection.
    func testWrongSecretOnALargeUploadIsPermanent() throws {
        let good = try fresh()
        let bad = try server.sibling(of: good, credentials: S3Credentials(accessKeyID: server.credentials.accessKeyID,
                                                                          secretAccessKey: "not-the-secret"))
        let before = requests(bad)
        XCTAssertThrowsError(try bad.write(FileName(.data, id(32)), data: seededBytes(count: 24 << 20, seed: 32))) { error in
            guard case .permanent = error as? StorageError else { return XCTFail("not permanent: \(error)") }
            XCTAssertTrue(String(describing: error).contains("refused the credentials"), "\(error)")
        }
        XCTAssertEqual(requests(bad) - before, 1)
    }

    // An unknown access key is refused the same way.
    func testUnknownAccessKeyIsPermanent() throws {
        let good = try fresh()
        let bad = try server.sibling(of: good, credentials: S3Credentials(accessKeyID: "AKIDNOSUCHKEY0000000", secretAccessKey: "x"))
        XCTAssertThrowsError(try bad.list(.index)) { error in
            guard case .permanent = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertTrue(String(describing: error).contains("InvalidAccessKeyId"), "\(error)")
        }
    }

    // The server checks Content-MD5: a body that does not match it is refused and nothing is stored.
    func testContentMD5MismatchIsRefusedByTheServer() throws {
        let good = try fresh()
        var options = S3Backend.Options()
        options.corruptContentMD5 = true
        let corrupt = try server.sibling(of: good, options: options)
        let file = FileName(.index, id(40))
        XCTAssertThrowsError(try corrupt.write(file, data: seededBytes(count: 1000, seed: 40))) { error in
            XCTAssertTrue(String(describing: error).contains("BadDigest"), "\(error)")
        }
        XCTAssertFalse(try good.exists(file))
        try good.write(file, data: seededBytes(count: 1000, seed: 40))  // the same bytes with the right MD5
        XCTAssertEqual(try good.stat(file).size, 1000)
    }

    // A staged pack is sent from its file with its MD5 and SHA-256 read from that file: the
    // server checks both, refuses a wrong MD5, and stores the right bytes.
    func testStagedUploadIsCheckedByTheServer() throws {
        let good = try fresh()
        var options = S3Backend.Options()
        options.corruptContentMD5 = true
        let corrupt = try server.sibling(of: good, options: options)
        let file = FileName(.data, id(41))
        let bytes = seededBytes(count: (2 << 20) + 77, seed: 41)
        let staged = try StagedFile.temporary()
        try staged.append(bytes)
        XCTAssertThrowsError(try corrupt.write(file, staged: staged)) { error in
            XCTAssertTrue(String(describing: error).contains("BadDigest"), "\(error)")
        }
        XCTAssertFalse(try good.exists(file))
        try good.write(file, staged: staged)
        XCTAssertEqual(try good.read(file), bytes)

        // A SHA-256 given with the file (a pack's name) is the one signed and sent: the server
        // refuses a wrong one, and takes the right one.
        let named = FileName(.data, id(42))
        staged.sha256 = [UInt8](repeating: 0, count: 32)
        XCTAssertThrowsError(try good.write(named, staged: staged)) { error in
            XCTAssertTrue(String(describing: error).contains("SHA256"), "\(error)")
        }
        XCTAssertFalse(try good.exists(named))
        staged.sha256 = SHA256.hash(bytes)
        try good.write(named, staged: staged)
        XCTAssertEqual(try good.read(named), bytes)
    }

    // If-None-Match: * makes the server refuse to replace an object; snap accepts the refusal only
    // when the existing object has the size it meant to write.
    func testIfNoneMatchRefusesReplacement() throws {
        let backend = try fresh(options: .init(ifNoneMatch: true))
        let file = FileName(.locks, id(50))
        try backend.write(file, data: Array(repeating: 1, count: 10))
        try backend.write(file, data: Array(repeating: 1, count: 10))
        XCTAssertThrowsError(try backend.write(file, data: Array(repeating: 2, count: 20))) { error in
            guard case .permanent = error as? StorageError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try backend.read(file), Array(repeating: 1, count: 10))
    }

    // The same holds for multipart uploads (radosgw ignores If-None-Match when completing one,
    // so the backend looks before uploading).
    func testIfNoneMatchWithMultipartUploads() throws {
        let backend = try fresh(options: .init(ifNoneMatch: true, multipartThreshold: 5 << 20, partSize: 5 << 20))
        let file = FileName(.data, id(51))
        let data = seededBytes(count: 6 << 20, seed: 51)
        try backend.write(file, data: data)
        let before = requests(backend)
        try backend.write(file, data: data)
        XCTAssertEqual(requests(backend) - before, 1, "an identical rewrite only looks")
        XCTAssertThrowsError(try backend.write(file, data: seededBytes(count: 7 << 20, seed: 52))) { error in
            guard case .permanent = error as? StorageError else { return XCTFail("\(error)") }
        }
        XCTAssertTrue(sameBytes(try backend.read(file), data))
        XCTAssertEqual(try pendingUploads(backend), 0)
    }

    // createBucket on an existing bucket of one's own succeeds; asking for Object Lock on a bucket without it fails.
    func testCreateBucketTwice() throws {
        let backend = try fresh()
        try backend.createBucket()
        XCTAssertThrowsError(try backend.createBucket(objectLock: true)) { error in
            XCTAssertTrue(String(describing: error).contains("Object Lock"), "\(error)")
        }
    }

    // Objects written with a retention cannot lose their version before it ends; snap's delete
    // (a delete marker on a versioned bucket) still hides the file.
    func testObjectLockRetention() throws {
        let backend = try fresh(options: .init(objectLock: .init(mode: .governance, days: 1)), objectLock: true)
        try backend.createBucket(objectLock: true)  // again: already owned, with Object Lock
        let file = FileName(.snapshots, id(60))
        try backend.write(file, data: [6, 0])
        let key = backend.objectKey(file)

        let retention = try backend.send(.init(method: "GET", key: key, query: [("retention", "")]), operation: "test", file: file)
        XCTAssertEqual(retention.status, 200)
        let parsed = S3XMLNode.parse(retention.body)
        XCTAssertEqual(parsed?.text(of: "Mode"), "GOVERNANCE")
        let until = parsed?.text(of: "RetainUntilDate") ?? ""
        XCTAssertTrue(until.hasPrefix(String(S3Time.iso8601(S3Time.now() + 86_400).prefix(10))), until)

        let versions = try listVersions(backend).filter { $0.key == key }
        XCTAssertEqual(versions.count, 1)
        let refused = try backend.send(.init(method: "DELETE", key: key, query: [("versionId", versions[0].version)]),
                                       operation: "test", file: file)
        XCTAssertEqual(refused.status, 403, "deleting a retained version must be refused")

        // Retention set when a multipart upload starts applies to the completed object.
        let large = try server.sibling(of: backend, options: .init(objectLock: .init(mode: .governance, days: 1),
                                                                   multipartThreshold: 5 << 20, partSize: 5 << 20))
        let pack = FileName(.data, id(61))
        try large.write(pack, data: seededBytes(count: 6 << 20, seed: 61))
        let packRetention = try backend.send(.init(method: "GET", key: backend.objectKey(pack), query: [("retention", "")]),
                                             operation: "test", file: pack)
        XCTAssertEqual(S3XMLNode.parse(packRetention.body)?.text(of: "Mode"), "GOVERNANCE")

        try backend.delete(file)
        XCTAssertFalse(try backend.exists(file))
        XCTAssertEqual(try backend.list(.snapshots), [])

        // Clean up: GOVERNANCE retention can be bypassed by the owner.
        for version in try listVersions(backend) {
            _ = try? backend.send(.init(method: "DELETE", key: version.key, query: [("versionId", version.version)],
                                        headers: [("x-amz-bypass-governance-retention", "true")]), operation: "test", file: nil)
        }
    }

    // A storage class the server knows is accepted.
    func testStorageClass() throws {
        let backend = try fresh(options: .init(storageClass: "STANDARD"))
        let file = FileName(.index, id(70))
        try backend.write(file, data: [7])
        XCTAssertEqual(try backend.read(file), [7])
    }

    // MARK: - Helpers

    /// Multipart uploads in progress in the backend's bucket.
    private func pendingUploads(_ backend: S3Backend) throws -> Int {
        let result = try backend.send(.init(method: "GET", key: nil, query: [("uploads", "")]), operation: "test", file: nil)
        XCTAssertEqual(result.status, 200)
        return S3XMLNode.parse(result.body)?.children("Upload").count ?? -1
    }

    /// Every version and delete marker in the backend's bucket.
    private func listVersions(_ backend: S3Backend) throws -> [(key: String, version: String)] {
        let result = try backend.send(.init(method: "GET", key: nil, query: [("versions", "")]), operation: "test", file: nil)
        XCTAssertEqual(result.status, 200)
        let root = S3XMLNode.parse(result.body)
        return (root?.children ?? []).filter { $0.name == "Version" || $0.name == "DeleteMarker" }.compactMap { node in
            guard let key = node.text(of: "Key"), let version = node.text(of: "VersionId") else { return nil }
            return (key, version)
        }
    }
}
