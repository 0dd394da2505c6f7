import XCTest
import CCurlShim
@testable import SnapHTTP

/// How libcurl's failures read: an SSH connection that went is retried and not blamed on
/// the key; a refused key gets the hint about RSA keys.
final class CurlErrorTests: XCTestCase {
    override func setUpWithError() throws {
        _ = try EasyHandle()  // loads libcurl, which `classify` asks for its text
    }

    func testSSHConnectionLossIsTransientAndNamesNoKey() {
        let error = EasyHandle.classify(CURLE_SSH, url: "sftp://h/x", stderr: "Failure establishing ssh session: -13, Failed getting banner")
        XCTAssertTrue(error.kind == .transient)
        XCTAssertTrue(error.message.contains("the SSH connection failed: Failure establishing ssh session"), error.message)
        XCTAssertFalse(error.message.contains("ed25519"), error.message)
    }

    func testSSHAuthenticationFailureNamesTheKeyHint() {
        let error = EasyHandle.classify(CURLE_SSH, url: "sftp://h/x", stderr: "Authentication failure")
        XCTAssertTrue(error.kind == .permanent)
        XCTAssertTrue(error.message.contains("SSH key authentication failed: Authentication failure"), error.message)
        XCTAssertTrue(error.message.contains("use an ed25519 or ECDSA key"), error.message)
    }
}
