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

    // A server certificate that fails verification gets advice that fits OpenSSL's reason:
    // --cacert only where the authority is what is unknown (campaign 24 F3).
    func testCertificateAdviceFitsTheReason() {
        let unknown = EasyHandle.classify(CURLE_PEER_FAILED_VERIFICATION, url: "https://h/r",
                                          stderr: "SSL certificate problem: unable to get local issuer certificate")
        XCTAssertTrue(unknown.message.contains("give its certificate with --cacert FILE"), unknown.message)
        XCTAssertTrue(unknown.kind == .permanent)
        let expired = EasyHandle.classify(CURLE_PEER_FAILED_VERIFICATION, url: "https://h/r",
                                          stderr: "SSL certificate problem: certificate has expired")
        XCTAssertTrue(expired.message.contains("must be renewed") && !expired.message.contains("--cacert"), expired.message)
        let name = EasyHandle.classify(CURLE_PEER_FAILED_VERIFICATION, url: "https://h/r",
                                       stderr: "SSL: no alternative certificate subject name matches target host name 'h'")
        XCTAssertTrue(name.message.contains("for another name") && !name.message.contains("--cacert"), name.message)
        let given = EasyHandle.classify(CURLE_PEER_FAILED_VERIFICATION, url: "https://h/r",
                                        stderr: "SSL certificate problem: unable to get local issuer certificate", authoritiesGiven: true)
        XCTAssertTrue(given.message.contains("not issued by the authorities given with --cacert"), given.message)
        let ssh = EasyHandle.classify(CURLE_PEER_FAILED_VERIFICATION, url: "sftp://h/r", stderr: "")
        XCTAssertTrue(ssh.message.contains("host key or certificate does not match"), ssh.message)
    }

    // Files that libcurl cannot use are named by their option.
    func testUnusableTLSFilesNameTheirOption() {
        let key = EasyHandle.classify(CURLE_SSL_CERTPROBLEM, url: "https://h/r", stderr: "unable to set private key file: 'c.pem' type PEM")
        XCTAssertTrue(key.message.contains("--tls-client-cert must hold a certificate and the private key that belongs to it"), key.message)
        let bundle = EasyHandle.classify(CURLE_SSL_CACERT_BADFILE, url: "https://h/r", stderr: "error importing CA certificate blob")
        XCTAssertTrue(bundle.message.hasPrefix("the certificate authorities given cannot be used"), bundle.message)
        XCTAssertTrue(bundle.message.contains("--cacert") && !bundle.message.contains("access rights"), bundle.message)
    }
}
