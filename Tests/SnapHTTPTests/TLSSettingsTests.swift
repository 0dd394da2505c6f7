import SnapHTTP
import XCTest

/// What `--cacert` and `--tls-client-cert` files must hold, and the line that names one
/// that does not serve. (Reading them, pipes included, is `SmallFile`'s, tested in core.)
final class TLSSettingsTests: XCTestCase {
    private let certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    private let key = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n"

    private func file(_ name: String, _ text: String) -> TLSSettings.PEMFile { (name, Array(text.utf8)) }

    private func failure(_ make: () throws -> TLSSettings) -> String {
        do {
            _ = try make()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    // Authorities from several files are kept one after another, each ending its line.
    func testAuthoritiesAreJoined() throws {
        let settings = try TLSSettings(authorities: [file("a.pem", certificate), file("b.pem", certificate + "\n")],
                                       clientCertificate: nil, insecure: false)
        XCTAssertEqual(String(decoding: settings.authorities, as: UTF8.self), certificate + "\n" + certificate + "\n")
        XCTAssertTrue(settings.verifiesServer)
        XCTAssertNil(settings.clientCertificate)
        XCTAssertFalse(try TLSSettings(authorities: [], clientCertificate: nil, insecure: true).verifiesServer)
    }

    func testAuthorityFileMustHoldACertificate() {
        XCTAssertEqual(failure { try TLSSettings(authorities: [file("key.pem", key)], clientCertificate: nil, insecure: false) },
                       "--cacert key.pem holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        XCTAssertEqual(failure { try TLSSettings(authorities: [file("empty", "")], clientCertificate: nil, insecure: false,
                                                 authoritySource: "$SNAP_CACERT") },
                       "$SNAP_CACERT empty holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    }

    func testClientCertificateNeedsItsKey() throws {
        let both = certificate + "\n" + key
        XCTAssertEqual(try TLSSettings(authorities: [], clientCertificate: file("c.pem", both), insecure: false).clientCertificate,
                       Array(both.utf8))
        XCTAssertEqual(failure { try TLSSettings(authorities: [], clientCertificate: file("alone.pem", certificate), insecure: false) },
                       "--tls-client-cert alone.pem must hold the client's certificate and its private key, both in PEM")
        let encrypted = certificate + "\n-----BEGIN ENCRYPTED PRIVATE KEY-----\nMII\n-----END ENCRYPTED PRIVATE KEY-----\n"
        XCTAssertTrue(failure { try TLSSettings(authorities: [], clientCertificate: file("enc.pem", encrypted), insecure: false) }
                        .contains("holds an encrypted private key"))
        // OpenSSL's older form marks the encryption in a header, not the label (campaign 24 F1).
        let legacy = certificate + "\n-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
            + "DEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nMHc\n-----END EC PRIVATE KEY-----\n"
        XCTAssertTrue(failure { try TLSSettings(authorities: [], clientCertificate: file("legacy.pem", legacy), insecure: false) }
                        .contains("holds an encrypted private key"))
    }
}
