import Foundation
import SnapHTTP
import SnapTestSupport
import XCTest

/// Reading `--cacert` and `--tls-client-cert` files: what they must hold, and the line
/// that names one that does not serve.
final class TLSSettingsTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "tls-settings-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    private func write(_ name: String, _ text: String) throws -> String {
        let path = "\(folder)/\(name)"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    private let certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    private let key = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n"

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
        let a = try write("a.pem", certificate), b = try write("b.pem", certificate + "\n")
        let settings = try TLSSettings(authorityFiles: [a, b], clientCertificate: nil, insecure: false)
        XCTAssertEqual(String(decoding: settings.authorities, as: UTF8.self), certificate + "\n" + certificate + "\n")
        XCTAssertTrue(settings.verifiesServer)
        XCTAssertNil(settings.clientCertificate)
        XCTAssertFalse(try TLSSettings(authorityFiles: [], clientCertificate: nil, insecure: true).verifiesServer)
    }

    func testAuthorityFileMustHoldACertificate() throws {
        let onlyKey = try write("key.pem", key)
        XCTAssertEqual(failure { try TLSSettings(authorityFiles: [onlyKey], clientCertificate: nil, insecure: false) },
                       "--cacert \(onlyKey) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        XCTAssertEqual(failure { try TLSSettings(authorityFiles: ["\(folder)/none"], clientCertificate: nil, insecure: false) },
                       "--cacert \(folder)/none cannot be opened: No such file or directory")
        XCTAssertEqual(failure { try TLSSettings(authorityFiles: [folder], clientCertificate: nil, insecure: false) },
                       "--cacert \(folder) is not a file")
    }

    // A fifo is refused at once, not waited on.
    func testFifoIsRefusedWithoutWaiting() throws {
        XCTAssertEqual(mkfifo("\(folder)/fifo", 0o600), 0)
        XCTAssertEqual(failure { try TLSSettings(authorityFiles: ["\(folder)/fifo"], clientCertificate: nil, insecure: false) },
                       "--cacert \(folder)/fifo is not a file")
    }

    func testClientCertificateNeedsItsKey() throws {
        let both = try write("client.pem", certificate + "\n" + key)
        XCTAssertEqual(try TLSSettings(authorityFiles: [], clientCertificate: both, insecure: false).clientCertificate, both)
        let alone = try write("alone.pem", certificate)
        XCTAssertEqual(failure { try TLSSettings(authorityFiles: [], clientCertificate: alone, insecure: false) },
                       "--tls-client-cert \(alone) must hold the client's certificate and its private key, both in PEM")
        let encrypted = try write("enc.pem", certificate + "\n-----BEGIN ENCRYPTED PRIVATE KEY-----\nMII\n-----END ENCRYPTED PRIVATE KEY-----\n")
        XCTAssertTrue(failure { try TLSSettings(authorityFiles: [], clientCertificate: encrypted, insecure: false) }
                        .contains("holds an encrypted private key"))
        // OpenSSL's older form marks the encryption in a header, not the label (campaign 24 F1).
        let legacy = try write("legacy.pem", certificate + "\n-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                               + "DEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nMHc\n-----END EC PRIVATE KEY-----\n")
        XCTAssertTrue(failure { try TLSSettings(authorityFiles: [], clientCertificate: legacy, insecure: false) }
                        .contains("holds an encrypted private key"))
    }

    // A file far larger than any PEM file is refused without being read whole.
    func testHugeFileIsRefused() throws {
        let path = "\(folder)/huge.pem"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        XCTAssertEqual(truncate(path, 1 << 30), 0)
        XCTAssertEqual(failure { try TLSSettings(authorityFiles: [path], clientCertificate: nil, insecure: false) },
                       "--cacert \(path) is \(1 << 30) bytes, too large for a PEM file")
    }
}
