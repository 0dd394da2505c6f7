import XCTest
import SnapCore
import SnapCrypto
@testable import SnapRemote

/// Known-answer tests from AWS's published material only:
/// - the Signature Version 4 test suite (credential scope AKIDEXAMPLE/20150830/us-east-1/service,
///   as shipped in awslabs/aws-c-auth `tests/aws-signing-test-suite/v4/*/header-signed-request.txt`
///   and the test suite page of the AWS General Reference);
/// - the four examples of "Signature Calculations for the Authorization Header: Transferring
///   Payload in a Single Chunk" in the Amazon S3 API Reference (examplebucket, 20130524).
final class S3SigV4Tests: XCTestCase {
    // MARK: - Signature Version 4 test suite

    private let suite = SigV4(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                              region: "us-east-1", service: "service")
    private let suiteDate = "20150830T123600Z"

    private func suiteRequest(_ method: String, _ path: String, query: [(name: String, value: String)] = [],
                              extra: [(name: String, value: String)] = []) -> SigV4.Request {
        SigV4.Request(method: method, canonicalURI: SigV4.encodePath(path), query: query,
                      headers: [("Host", "example.amazonaws.com")] + extra + [("X-Amz-Date", suiteDate)],
                      payloadHash: SigV4.emptyPayloadHash)
    }

    private func suiteAuthorization(signedHeaders: String, signature: String) -> String {
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    func testGetVanilla() {
        XCTAssertEqual(suite.authorization(for: suiteRequest("GET", "/"), amzDate: suiteDate),
                       suiteAuthorization(signedHeaders: "host;x-amz-date",
                                          signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"))
    }

    // The test suite page walks through this one step by step: canonical request, its hash, the signature.
    func testGetVanillaQueryOrderKeyCase() {
        let request = suiteRequest("GET", "/", query: [("Param2", "value2"), ("Param1", "value1")])
        let canonical = SigV4.canonicalRequest(request)
        XCTAssertEqual(canonical, """
            GET
            /
            Param1=value1&Param2=value2
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(suite.stringToSign(canonicalRequest: canonical, amzDate: suiteDate), """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0
            """)
        XCTAssertEqual(suite.authorization(for: request, amzDate: suiteDate),
                       suiteAuthorization(signedHeaders: "host;x-amz-date",
                                          signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))
    }

    // Header values are trimmed and inner runs of spaces collapse, even inside quotes.
    func testGetHeaderValueTrim() {
        let request = suiteRequest("GET", "/", extra: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")])
        XCTAssertTrue(SigV4.canonicalRequest(request).contains("my-header1:value1\nmy-header2:\"a b c\"\n"))
        XCTAssertEqual(suite.authorization(for: request, amzDate: suiteDate),
                       suiteAuthorization(signedHeaders: "host;my-header1;my-header2;x-amz-date",
                                          signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"))
    }

    func testPostVanilla() {
        XCTAssertEqual(suite.authorization(for: suiteRequest("POST", "/"), amzDate: suiteDate),
                       suiteAuthorization(signedHeaders: "host;x-amz-date",
                                          signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"))
    }

    // A non-ASCII path is encoded byte by byte in UTF-8 (suite case get-utf8, path "/ሴ").
    func testGetUTF8() {
        let request = suiteRequest("GET", "/\u{1234}")
        XCTAssertEqual(request.canonicalURI, "/%E1%88%B4")
        XCTAssertEqual(suite.signature(for: request, amzDate: suiteDate),
                       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85")
    }

    // MARK: - Amazon S3 API Reference examples

    private let s3 = SigV4(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                           region: "us-east-1", service: "s3")
    private let s3Date = "20130524T000000Z"
    private let s3Host = "examplebucket.s3.amazonaws.com"

    private func s3Request(_ path: String, query: [(name: String, value: String)] = [],
                           extra: [(name: String, value: String)] = [], payloadHash: String = SigV4.emptyPayloadHash,
                           method: String = "GET") -> SigV4.Request {
        SigV4.Request(method: method, canonicalURI: SigV4.encodePath(path), query: query,
                      headers: [("Host", s3Host)] + extra + [("x-amz-content-sha256", payloadHash), ("x-amz-date", s3Date)],
                      payloadHash: payloadHash)
    }

    private func stringToSignHash(_ request: SigV4.Request) -> String {
        String(s3.stringToSign(canonicalRequest: SigV4.canonicalRequest(request), amzDate: s3Date).split(separator: "\n").last ?? "")
    }

    func testS3GetObjectWithRange() {
        let request = s3Request("/test.txt", extra: [("Range", "bytes=0-9")])
        XCTAssertEqual(SigV4.canonicalRequest(request), """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(stringToSignHash(request), "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        XCTAssertEqual(s3.signature(for: request, amzDate: s3Date), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        XCTAssertEqual(s3.authorization(for: request, amzDate: s3Date),
                       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                       + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                       + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    // The key "test$file.text" is encoded once ("$" becomes %24) and the payload hash is signed.
    func testS3PutObject() {
        let payloadHash = Hex.encode(SHA256.hash(Array("Welcome to Amazon S3.".utf8)))
        XCTAssertEqual(payloadHash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let request = s3Request("/test$file.text",
                                extra: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
                                payloadHash: payloadHash, method: "PUT")
        XCTAssertEqual(request.canonicalURI, "/test%24file.text")
        XCTAssertEqual(SigV4.canonicalRequest(request), """
            PUT
            /test%24file.text

            date:Fri, 24 May 2013 00:00:00 GMT
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            x-amz-date:20130524T000000Z
            x-amz-storage-class:REDUCED_REDUNDANCY

            date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
            44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            """)
        XCTAssertEqual(stringToSignHash(request), "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d")
        XCTAssertEqual(s3.signature(for: request, amzDate: s3Date), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    // A query parameter without a value signs as "lifecycle=".
    func testS3GetBucketLifecycle() {
        let request = s3Request("/", query: [("lifecycle", "")])
        XCTAssertEqual(SigV4.canonicalQueryString(request.query), "lifecycle=")
        XCTAssertEqual(stringToSignHash(request), "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca")
        XCTAssertEqual(s3.signature(for: request, amzDate: s3Date), "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    // Query parameters are sorted by name.
    func testS3ListObjects() {
        let request = s3Request("/", query: [("prefix", "J"), ("max-keys", "2")])
        XCTAssertEqual(SigV4.canonicalQueryString(request.query), "max-keys=2&prefix=J")
        XCTAssertEqual(stringToSignHash(request), "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7")
        XCTAssertEqual(s3.signature(for: request, amzDate: s3Date), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    // MARK: - Encoding rules (from the S3 reference's UriEncode description)

    func testURIEncoding() {
        XCTAssertEqual(SigV4.uriEncode("AZaz09-_.~", encodeSlash: true), "AZaz09-_.~")
        XCTAssertEqual(SigV4.uriEncode("a b+c*d%e=f&g", encodeSlash: true), "a%20b%2Bc%2Ad%25e%3Df%26g")
        XCTAssertEqual(SigV4.uriEncode("repo/data/", encodeSlash: true), "repo%2Fdata%2F")
        XCTAssertEqual(SigV4.uriEncode("repo/data/", encodeSlash: false), "repo/data/")
        XCTAssertEqual(SigV4.uriEncode("ü", encodeSlash: true), "%C3%BC")
        XCTAssertEqual(SigV4.encodePath("/bucket/my repo/$"), "/bucket/my%20repo/%24")
    }

    // Sorting is by encoded name, then by value, in byte order (upper case before lower case).
    func testCanonicalQueryOrderAndEncoding() {
        let query: [(name: String, value: String)] = [("prefix", "a/b c"), ("b", "2"), ("a", "z"), ("a", "y"), ("B", "1")]
        XCTAssertEqual(SigV4.canonicalQueryString(query), "B=1&a=y&a=z&b=2&prefix=a%2Fb%20c")
    }

    // Repeated header names are joined with commas in the order given, and names are case-folded.
    func testCanonicalHeadersJoinRepeatedNames() {
        let (block, signed) = SigV4.canonicalHeaders([("My-Header1", "value4"), ("Host", "h"), ("my-header1", "  value1  ")])
        XCTAssertEqual(block, "host:h\nmy-header1:value4,value1\n")
        XCTAssertEqual(signed, "host;my-header1")
    }

    // The signer never shows the secret when printed.
    func testDescriptionHidesSecret() {
        XCTAssertFalse(String(describing: s3).contains("EXAMPLEKEY"))
        XCTAssertFalse(String(reflecting: s3).contains("bPxRfiCY"))
    }
}
