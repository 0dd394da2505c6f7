import SnapHTTP
import SnapRemote
import SnapStorage
import SnapTestSupport
import XCTest

/// The SFTP provider against a real OpenSSH sshd on loopback, with an ed25519 key and a
/// checked host key.
final class SFTPBackendTests: XCTestCase {
    private func ssh(knownHosts: String? = nil, pin: String? = nil) throws -> SSHOptions {
        let env = RemoteTestServers.environment
        return SSHOptions(user: try RemoteTestServers.require("SFTP_USER", server: "SFTP"),
                          privateKeyPath: try RemoteTestServers.require("SFTP_KEY", server: "SFTP"),
                          publicKeyPath: env["SFTP_PUBKEY"], hostKeySHA256: pin,
                          knownHostsPath: knownHosts ?? (pin == nil ? env["SFTP_KNOWN_HOSTS"] : nil))
    }

    private func location(_ name: String) throws -> SFTPLocation {
        let port = try RemoteTestServers.require("SFTP_PORT", server: "SFTP")
        let root = try RemoteTestServers.require("SFTP_ROOT", server: "SFTP")
        return try SFTPLocation(parsing: "sftp://127.0.0.1:\(port)\(root)/\(name)")
    }

    // Every guarantee of the Backend contract holds over SFTP.
    func testConformance() throws {
        _ = try ssh()
        try BackendConformance.run(makeBackend: {
            try SFTPBackend(location: try self.location(RemoteTestServers.uniqueName("conformance")), ssh: try self.ssh())
        }, largeFileSize: 8 << 20)
    }

    // A pinned host-key fingerprint works, and a wrong one is refused with a clear, permanent error.
    func testHostKeyPinning() throws {
        let pin = try RemoteTestServers.require("SFTP_HOSTKEY_SHA256", server: "SFTP")
        let good = try SFTPBackend(location: try location(RemoteTestServers.uniqueName("pin")), ssh: try ssh(pin: pin))
        try good.write(FileName(.keys, String(repeating: "ab", count: 32)), data: [1, 2, 3])
        let wrong = try SFTPBackend(location: try location(RemoteTestServers.uniqueName("pin")),
                                    ssh: try ssh(pin: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
        XCTAssertThrowsError(try wrong.list(.keys)) { error in
            guard let e = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertFalse(e.isTransient, "\(e)")
        }
    }

    // Without a known_hosts file or pin the backend refuses to connect at all.
    func testRefusesWithoutHostKeyCheck() throws {
        let options = SSHOptions(user: "nobody", privateKeyPath: "/nonexistent")
        XCTAssertThrowsError(try SFTPBackend(location: try SFTPLocation(parsing: "sftp:host:/x"), ssh: options)) { error in
            XCTAssertTrue("\(error)".contains("known_hosts"), "\(error)")
        }
    }

    // Location strings parse as documented.
    func testLocationParsing() throws {
        let a = try SFTPLocation(parsing: "sftp:alice@host.example:/srv/repo/")
        XCTAssertEqual(a.user, "alice"); XCTAssertEqual(a.host, "host.example"); XCTAssertEqual(a.port, 22); XCTAssertEqual(a.path, "/srv/repo")
        let b = try SFTPLocation(parsing: "sftp://bob@10.0.0.5:2222/backups")
        XCTAssertEqual(b.user, "bob"); XCTAssertEqual(b.port, 2222); XCTAssertEqual(b.path, "/backups")
        let c = try SFTPLocation(parsing: "sftp:host:relative/repo")
        XCTAssertNil(c.user); XCTAssertEqual(c.path, "relative/repo")
        XCTAssertThrowsError(try SFTPLocation(parsing: "sftp:nohostpath"))
        XCTAssertThrowsError(try SFTPLocation(parsing: "sftp://host:99999/x"))
    }
}
