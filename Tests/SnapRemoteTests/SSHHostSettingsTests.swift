import SnapRemote
import XCTest

/// `~/.ssh/config` as `ssh_config(5)` reads it, for the settings of an SFTP location.
final class SSHHostSettingsTests: XCTestCase {
    private func settings(_ host: String, _ text: String) -> SSHHostSettings {
        SSHHostSettings(for: host, in: text, home: "/home/ann", localUser: "ann")
    }

    // An alias gets its HostName, User, Port and IdentityFile (with ~ expanded).
    func testAliasBlock() {
        let text = """
            # backups
            Host nas backup-*
                HostName 192.168.1.20
                User backup
                Port 2222
                IdentityFile ~/.ssh/nas_ed25519
                UserKnownHostsFile ~/.ssh/known_hosts_nas
            """
        let nas = settings("nas", text)
        XCTAssertEqual(nas.hostName, "192.168.1.20")
        XCTAssertEqual(nas.user, "backup")
        XCTAssertEqual(nas.port, 2222)
        XCTAssertEqual(nas.identityFiles, ["/home/ann/.ssh/nas_ed25519"])
        XCTAssertEqual(nas.knownHostsFile, "/home/ann/.ssh/known_hosts_nas")
        XCTAssertEqual(settings("backup-eu", text).port, 2222, "a * pattern")
        XCTAssertEqual(settings("other", text), SSHHostSettings(), "no block matches")
    }

    // The first value of a keyword wins, so specific blocks go first and Host * last;
    // IdentityFile collects every value in order.
    func testFirstValueWinsAndIdentityFilesCollect() {
        let text = """
            Host nas
              Port 2222
              IdentityFile ~/.ssh/a
            Host *
              Port 22
              User everyone
              IdentityFile ~/.ssh/b
            """
        let nas = settings("nas", text)
        XCTAssertEqual(nas.port, 2222)
        XCTAssertEqual(nas.user, "everyone")
        XCTAssertEqual(nas.identityFiles, ["/home/ann/.ssh/a", "/home/ann/.ssh/b"])
    }

    // Negated patterns exclude, ? matches one character, names match without case,
    // Match blocks are passed over, and Keyword=value and quoted values are read.
    func testPatternsAndSyntax() {
        let text = """
            Host *.lan !printer.lan
              User=lan-user
            Host srv?
              HostName "srv host"
            Match host nas
              User matched
            Host NAS
              IdentityFile "%d/keys/%h %r"
              User nas-user
            """
        XCTAssertEqual(settings("box.lan", text).user, "lan-user")
        XCTAssertNil(settings("printer.lan", text).user, "negated")
        XCTAssertEqual(settings("srv1", text).hostName, "srv host")
        XCTAssertNil(settings("srv10", text).hostName, "? is one character")
        let nas = settings("nas", text)
        XCTAssertEqual(nas.user, "nas-user", "the Match block is not applied")
        XCTAssertEqual(nas.identityFiles, ["/home/ann/keys/nas nas-user"])
    }

    // Settings before any Host line apply to every host; comments and blank lines are skipped.
    func testSettingsBeforeTheFirstHostApplyToAll() {
        let text = "Port 2200 # everywhere\n\n   # a comment\nHost x\n  Port 1\n"
        XCTAssertEqual(settings("x", text).port, 2200)
        XCTAssertEqual(settings("y", text).port, 2200)
    }
}
