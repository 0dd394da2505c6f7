import XCTest
@testable import SnapRemote

final class S3LocationTests: XCTestCase {
    private let noEnv: [String: String] = [:]

    func testEndpointFormIsPathStyle() throws {
        let l = try S3Location.parse("s3:https://storage.example.com:9000/backups/host1/snap", environment: noEnv)
        XCTAssertEqual(l.scheme, "https")
        XCTAssertEqual(l.endpointHost, "storage.example.com")
        XCTAssertEqual(l.port, 9000)
        XCTAssertEqual(l.bucket, "backups")
        XCTAssertEqual(l.prefix, "host1/snap")
        XCTAssertEqual(l.style, .path)
        XCTAssertEqual(l.region, "us-east-1")
        XCTAssertEqual(l.hostHeader, "storage.example.com:9000")
        XCTAssertEqual(l.url(key: l.key("keys/ab"), query: []), "https://storage.example.com:9000/backups/host1/snap/keys/ab")
        XCTAssertEqual(l.description, "s3:https://storage.example.com:9000/backups/host1/snap")
    }

    func testHTTPWithoutPrefixAndTrailingSlashes() throws {
        let l = try S3Location.parse("s3:http://127.0.0.1:7480/bucket-1//", environment: noEnv)
        XCTAssertEqual(l.scheme, "http")
        XCTAssertEqual(l.bucket, "bucket-1")
        XCTAssertEqual(l.prefix, "")
        XCTAssertEqual(l.key("config"), "config")
        XCTAssertEqual(l.url(key: nil, query: [("list-type", "2"), ("prefix", "data/")]),
                       "http://127.0.0.1:7480/bucket-1?list-type=2&prefix=data%2F")
        XCTAssertEqual(l.canonicalURI(key: nil), "/bucket-1")
    }

    func testAmazonShortFormIsVirtualHostStyle() throws {
        let l = try S3Location.parse("s3:my-bucket/repo", environment: ["AWS_DEFAULT_REGION": "eu-west-1"])
        XCTAssertEqual(l.region, "eu-west-1")
        XCTAssertEqual(l.style, .virtualHost)
        XCTAssertEqual(l.hostHeader, "my-bucket.s3.eu-west-1.amazonaws.com")
        XCTAssertEqual(l.url(key: l.key("config"), query: []), "https://my-bucket.s3.eu-west-1.amazonaws.com/repo/config")
        XCTAssertEqual(l.canonicalURI(key: nil), "/")
        XCTAssertEqual(l.description, "s3:my-bucket/repo")
    }

    func testRegionPrecedence() throws {
        XCTAssertEqual(try S3Location.parse("s3:bkt", environment: noEnv).region, "us-east-1")
        XCTAssertEqual(try S3Location.parse("s3:bkt", environment: ["AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "eu-west-1"]).region,
                       "ap-south-1")
        XCTAssertEqual(try S3Location.parse("s3:https://s3.eu-central-1.amazonaws.com/bkt", environment: noEnv).region,
                       "eu-central-1")
    }

    func testForcedStyles() throws {
        let path = try S3Location.parse("s3:bkt/p", style: .path, environment: noEnv)
        XCTAssertEqual(path.url(key: path.key("config"), query: []), "https://s3.us-east-1.amazonaws.com/bkt/p/config")
        let virtual = try S3Location.parse("s3:https://minio.example.net/bkt", style: .virtualHost, environment: noEnv)
        XCTAssertEqual(virtual.url(key: "config", query: []), "https://bkt.minio.example.net/config")
        XCTAssertThrowsError(try S3Location.parse("s3:http://127.0.0.1:9000/bkt", style: .virtualHost, environment: noEnv))
    }

    func testIPv6Endpoint() throws {
        let l = try S3Location.parse("s3:http://[::1]:8000/bkt", environment: noEnv)
        XCTAssertEqual(l.endpointHost, "[::1]")
        XCTAssertEqual(l.port, 8000)
        XCTAssertEqual(l.url(key: "k", query: []), "http://[::1]:8000/bkt/k")
    }

    // Keys and prefixes are encoded the same way in the URL and in the signature.
    func testPrefixIsEncodedOnce() throws {
        let l = try S3Location.parse("s3:http://h:1/bkt/my repo/ü", environment: noEnv)
        XCTAssertEqual(l.canonicalURI(key: l.key("config")), "/bkt/my%20repo/%C3%BC/config")
        XCTAssertEqual(l.url(key: l.key("config"), query: [("uploads", "")]), "http://h:1/bkt/my%20repo/%C3%BC/config?uploads")
    }

    func testMalformedStringsAreRejected() {
        let bad = [
            "", "s3", "local:/x", "s3:", "s3:/", "s3:https://", "s3:https://host", "s3:https://host/",
            "s3:ftp://host/bkt", "s3:https://host:0/bkt", "s3:https://host:99999/bkt", "s3:https://host:x/bkt",
            "s3:https://ho st/bkt", "s3:https://host/UPPER", "s3:https://host/ab", "s3:https://host/-bkt",
            "s3:https://host/bkt-", "s3:https://host/b..kt", "s3:https://host/192.168.1.1", "s3:https://host/bkt/a//b",
            "s3:https://host/bkt/../x", "s3:https://host/bkt?x=1", "s3:https://host/bkt#f", "s3:bkt:1",
            "s3:https://[::1/bkt", "s3:" + String(repeating: "a", count: 64),
        ]
        for text in bad {
            XCTAssertThrowsError(try S3Location.parse(text, environment: noEnv), "\"\(text)\" should be rejected") { error in
                XCTAssertTrue(error is S3ConfigurationError)
                XCTAssertFalse(String(describing: error).isEmpty)
            }
        }
    }

    // Credentials in the URL are refused, and the error does not repeat them.
    func testCredentialsInURLAreRefusedWithoutEcho() {
        XCTAssertThrowsError(try S3Location.parse("s3:https://AKID:SuperSecret123@host/bkt", environment: noEnv)) { error in
            let text = String(describing: error)
            XCTAssertFalse(text.contains("SuperSecret123"))
            XCTAssertFalse(text.contains("AKID"))
            XCTAssertTrue(text.contains("AWS_ACCESS_KEY_ID"))
        }
    }
}
