import XCTest
import SnapTestSupport
@testable import SnapRemote

final class S3CredentialsTests: XCTestCase {
    private var dir: TemporaryDirectory!

    override func setUpWithError() throws { dir = try TemporaryDirectory(prefix: "snap-s3-credentials") }
    override func tearDown() { dir.remove() }

    private func writeFile(_ name: String, _ text: String) throws -> String {
        let path = dir.appending(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private let sample = """
        # a comment
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key=secret/default+key
        ; another comment

        [work]
        aws_access_key_id=AKIDWORK
        aws_secret_access_key = secret-work
        aws_session_token = token-work
        [profile other]
        aws_access_key_id = AKIDOTHER
        aws_secret_access_key = secret-other
        [broken]
        aws_access_key_id = AKIDBROKEN
        """

    func testEnvironmentComesFirst() throws {
        let path = try writeFile("credentials", sample)
        let c = try S3Credentials.resolve(environment: [
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env", "AWS_SESSION_TOKEN": "tok",
            "AWS_SHARED_CREDENTIALS_FILE": path,
        ])
        XCTAssertEqual(c, S3Credentials(accessKeyID: "AKIDENV", secretAccessKey: "secret-env", sessionToken: "tok"))
    }

    func testDefaultProfileFromFileNamedInEnvironment() throws {
        let path = try writeFile("credentials", sample)
        let c = try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": path])
        XCTAssertEqual(c, S3Credentials(accessKeyID: "AKIDDEFAULT", secretAccessKey: "secret/default+key"))
    }

    func testProfileFromAWSProfile() throws {
        let path = try writeFile("credentials", sample)
        let work = try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": "work"])
        XCTAssertEqual(work, S3Credentials(accessKeyID: "AKIDWORK", secretAccessKey: "secret-work", sessionToken: "token-work"))
        let other = try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": "other"])
        XCTAssertEqual(other.accessKeyID, "AKIDOTHER")
    }

    func testHomeCredentialsFile() throws {
        try FileManager.default.createDirectory(atPath: dir.appending(".aws"), withIntermediateDirectories: true)
        _ = try writeFile(".aws/credentials", "[default]\r\naws_access_key_id=AKIDHOME\r\naws_secret_access_key=s\r\n")
        let c = try S3Credentials.resolve(environment: ["HOME": dir.path])
        XCTAssertEqual(c, S3Credentials(accessKeyID: "AKIDHOME", secretAccessKey: "s"))
    }

    func testMissingProfileIncompleteProfileAndMissingFile() throws {
        let path = try writeFile("credentials", sample)
        XCTAssertThrowsError(try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": "nope"])) {
            XCTAssertTrue(String(describing: $0).contains("[nope]"))
        }
        XCTAssertThrowsError(try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": "broken"])) {
            XCTAssertTrue(String(describing: $0).contains("aws_secret_access_key"))
        }
        XCTAssertThrowsError(try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": dir.appending("absent")])) {
            XCTAssertTrue(String(describing: $0).contains("does not exist"))
        }
    }

    func testNoCredentialsAnywhereSaysHowToProvideThem() {
        XCTAssertThrowsError(try S3Credentials.resolve(environment: ["HOME": dir.path])) { error in
            XCTAssertTrue(error is S3ConfigurationError)
            let text = String(describing: error)
            XCTAssertTrue(text.contains("AWS_ACCESS_KEY_ID") && text.contains("credentials"), text)
        }
    }

    func testHalfAKeyPairIsAnError() {
        XCTAssertThrowsError(try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "AKID", "HOME": dir.path])) {
            XCTAssertTrue(String(describing: $0).contains("AWS_SECRET_ACCESS_KEY"))
        }
        XCTAssertThrowsError(try S3Credentials.resolve(environment: ["AWS_SECRET_ACCESS_KEY": "hush-hush", "HOME": dir.path])) {
            XCTAssertFalse(String(describing: $0).contains("hush-hush"))
        }
    }

    // Printing, dumping or reflecting credentials never shows the secret or the token.
    func testSecretNeverPrinted() {
        let c = S3Credentials(accessKeyID: "AKIDSHOWN", secretAccessKey: "very-secret-value", sessionToken: "session-secret")
        var dumped = ""
        dump(c, to: &dumped)
        for text in [String(describing: c), String(reflecting: c), dumped, "\(c)"] {
            XCTAssertFalse(text.contains("very-secret-value"), text)
            XCTAssertFalse(text.contains("session-secret"), text)
        }
        XCTAssertTrue(String(describing: c).contains("AKIDSHOWN"))
    }
}
