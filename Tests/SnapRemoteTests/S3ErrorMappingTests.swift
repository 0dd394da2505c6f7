import XCTest
import SnapStorage
@testable import SnapRemote

final class S3ErrorMappingTests: XCTestCase {
    private let file = FileName(.data, String(repeating: "ab", count: 32))

    private func body(_ code: String, _ message: String = "m") -> [UInt8] {
        Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>\(message)</Message><RequestId>r</RequestId></Error>".utf8)
    }

    private func map(_ status: Int, _ body: [UInt8] = [], headers: [String: String] = [:], file: FileName? = nil) -> StorageError {
        S3ErrorMapping.error(status: status, headers: headers, body: body, operation: "read", file: file ?? self.file, location: "s3:test")
    }

    private func isPermanent(_ e: StorageError) -> Bool { if case .permanent = e { return true }; return false }

    func testNotFound() {
        guard case .notFound(let f, _) = map(404, body("NoSuchKey")) else { return XCTFail() }
        XCTAssertEqual(f, file)
        guard case .notFound = map(404) else { return XCTFail("HEAD 404 has no body") }
        XCTAssertTrue(isPermanent(map(404, body("NoSuchBucket"))))
        XCTAssertTrue(String(describing: map(404, body("NoSuchBucket"))).contains("snap init"))
    }

    func testRefusedCredentialsArePermanentAndQuoteOnlyTheCode() {
        for (status, code) in [(403, "SignatureDoesNotMatch"), (403, "InvalidAccessKeyId"), (401, ""), (403, "")] {
            let e = map(status, code.isEmpty ? [] : body(code, "StringToSign: AWS4-HMAC-SHA256 secret-looking"))
            XCTAssertTrue(isPermanent(e), "\(status) \(code)")
            let text = String(describing: e)
            XCTAssertTrue(text.contains("refused the credentials"), text)
            if !code.isEmpty { XCTAssertTrue(text.contains(code), text) }
            XCTAssertFalse(text.contains("secret-looking"), text)
        }
        XCTAssertTrue(isPermanent(map(403, body("AccessDenied"))))
    }

    func testTransientClasses() {
        for (status, code) in [(500, "InternalError"), (503, "SlowDown"), (503, ""), (429, ""), (400, "RequestTimeout"),
                               (400, "BadDigest"), (400, "XAmzContentSHA256Mismatch"), (502, "")] {
            XCTAssertTrue(map(status, code.isEmpty ? [] : body(code)).isTransient, "\(status) \(code)")
        }
    }

    func testOtherClientErrorsArePermanent() {
        for (status, code) in [(400, "InvalidArgument"), (400, "InvalidRequest"), (405, "MethodNotAllowed"), (409, "BucketNotEmpty"), (411, "")] {
            let e = map(status, code.isEmpty ? [] : body(code, "details here"))
            XCTAssertTrue(isPermanent(e), "\(status) \(code)")
            if !code.isEmpty { XCTAssertTrue(String(describing: e).contains(code)) }
        }
        let redirect = map(301, body("PermanentRedirect"), headers: ["x-amz-bucket-region": "eu-west-1"])
        XCTAssertTrue(isPermanent(redirect))
        XCTAssertTrue(String(describing: redirect).contains("eu-west-1"))
    }

    // A server that is not there is a transient failure (connection refused), not a missing file.
    func testConnectionRefusedIsTransient() throws {
        let location = try S3Location.parse("s3:http://127.0.0.1:1/bkt", environment: [:])
        let backend = try S3Backend(location: location, credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "b"))
        XCTAssertThrowsError(try backend.stat(file)) { error in
            XCTAssertTrue((error as? StorageError)?.isTransient ?? false, "\(error)")
        }
    }

    // Listing keeps only well-formed names of the kind, and strips the prefix and the data folder.
    func testListedKeyNames() {
        let id = String(repeating: "0123456789abcdef", count: 4)
        XCTAssertEqual(S3Backend.fileName(ofKey: "p/keys/\(id)", folder: "p/keys/", kind: .keys), id)
        XCTAssertEqual(S3Backend.fileName(ofKey: "p/data/01/\(id)", folder: "p/data/", kind: .data), id)
        XCTAssertNil(S3Backend.fileName(ofKey: "p/data/02/\(id)", folder: "p/data/", kind: .data))
        XCTAssertNil(S3Backend.fileName(ofKey: "p/data/\(id)", folder: "p/data/", kind: .data))
        XCTAssertNil(S3Backend.fileName(ofKey: "p/keys/sub/\(id)", folder: "p/keys/", kind: .keys))
        XCTAssertNil(S3Backend.fileName(ofKey: "p/keys/\(id.uppercased())", folder: "p/keys/", kind: .keys))
        XCTAssertNil(S3Backend.fileName(ofKey: "p/keys/\(id).tmp", folder: "p/keys/", kind: .keys))
        XCTAssertNil(S3Backend.fileName(ofKey: "q/keys/\(id)", folder: "p/keys/", kind: .keys))
    }

    func testContentRangeSize() {
        XCTAssertEqual(S3Backend.totalSize(fromContentRange: "bytes 0-9/1000"), 1000)
        XCTAssertEqual(S3Backend.totalSize(fromContentRange: "bytes */17"), 17)
        XCTAssertNil(S3Backend.totalSize(fromContentRange: "bytes 0-9/*"))
        XCTAssertNil(S3Backend.totalSize(fromContentRange: nil))
    }

    func testTimestamps() {
        XCTAssertEqual(S3Time.amzDate(0), "19700101T000000Z")
        XCTAssertEqual(S3Time.amzDate(1_440_938_160), "20150830T123600Z")
        XCTAssertEqual(S3Time.amzDate(1_369_353_600), "20130524T000000Z")
        XCTAssertEqual(S3Time.iso8601(951_782_400), "2000-02-29T00:00:00Z")
        XCTAssertEqual(S3Time.iso8601(4_107_542_399), "2100-02-28T23:59:59Z")
    }

    func testOptionsAreChecked() throws {
        let location = try S3Location.parse("s3:http://127.0.0.1:1/bkt", environment: [:])
        let credentials = S3Credentials(accessKeyID: "a", secretAccessKey: "b")
        XCTAssertThrowsError(try S3Backend(location: location, credentials: credentials, options: .init(partSize: 1 << 20)))
        XCTAssertThrowsError(try S3Backend(location: location, credentials: credentials, options: .init(maxKeys: 0)))
        XCTAssertThrowsError(try S3Backend(location: location, credentials: credentials, options: .init(storageClass: "x\r\nInjected: 1")))
        XCTAssertThrowsError(try S3Backend(location: location, credentials: credentials,
                                           options: .init(objectLock: .init(mode: .governance, days: 0))))
        XCTAssertNoThrow(try S3Backend(location: location, credentials: credentials, options: .init(storageClass: "STANDARD_IA")))
    }
}
