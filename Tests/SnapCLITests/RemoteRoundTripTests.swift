import Foundation
import SnapTestSupport
import XCTest

/// End-to-end through the built binary against the real servers started by
/// scripts/with-test-servers.sh: backup and restore via S3 (radosgw), SFTP (sshd) and REST
/// (rclone), with and without injected transient failures.
final class RemoteRoundTripTests: XCTestCase {
    private var work = ""

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("remote")
        try FileManager.default.createDirectory(atPath: "\(work)/src/sub", withIntermediateDirectories: true)
        for i in 0..<12 {
            try Data(seededBytes(count: 150_000 + i * 7919, seed: UInt64(i))).write(to: URL(fileURLWithPath: "\(work)/src/sub/f\(i).bin"))
        }
        try "small file\n".write(toFile: "\(work)/src/notes.txt", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: "\(work)/src/link", withDestinationPath: "notes.txt")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func s3Location() throws -> (String, [String: String]) {
        let endpoint = try serverSetting("S3_ENDPOINT")
        let bucket = "snap-e2e-\(UUID().uuidString.prefix(8).lowercased())"
        return ("s3:\(endpoint)/\(bucket)/repo", [:])
    }

    private func sftpLocation() throws -> (String, [String: String]) {
        let port = try serverSetting("SFTP_PORT"), root = try serverSetting("SFTP_ROOT"), user = try serverSetting("SFTP_USER")
        return ("sftp://\(user)@127.0.0.1:\(port)\(root)/e2e-\(UUID().uuidString.prefix(8))",
                ["SNAP_SFTP_KEY": try serverSetting("SFTP_KEY"), "SNAP_SFTP_KNOWN_HOSTS": try serverSetting("SFTP_KNOWN_HOSTS")])
    }

    private func restLocation() throws -> (String, [String: String]) {
        ("rest:\(try serverSetting("REST_URL"))e2e-\(UUID().uuidString.prefix(8).lowercased())/", [:])
    }

    /// init, backup, a second backup, restore and compare, through one location.
    private func roundTrip(_ location: String, _ extra: [String: String], faults: String? = nil) throws {
        var environment = ["SNAP_REPOSITORY": location, "SNAP_PASSWORD": "remote pw"].merging(extra) { $1 }
        let setup = SnapProcess(environment: environment)
        try setup.expect(0, ["init"])
        if let faults { environment["SNAP_FAULT_INJECTION"] = faults }
        let snap = SnapProcess(environment: environment)
        try snap.expect(0, ["backup", "\(work)/src", "-q"])
        try snap.expect(0, ["backup", "\(work)/src", "-q"])
        let target = "\(work)/out-\(UUID().uuidString.prefix(6))"
        try snap.expect(0, ["restore", "latest", "--target", target, "-q"])
        var comparison = TreeComparison()
        comparison.compare(Array("\(work)/src".utf8), Array("\(target)\(work)/src".utf8), compareOwners: false)
        XCTAssertEqual(comparison.differences, [], location)
        XCTAssertEqual(comparison.entriesCompared, 16)
    }

    // Backup and restore through S3 on radosgw are byte-identical.
    func testS3RoundTrip() throws { let (l, e) = try s3Location(); try roundTrip(l, e) }

    // Backup and restore through SFTP on OpenSSH are byte-identical.
    func testSFTPRoundTrip() throws { let (l, e) = try sftpLocation(); try roundTrip(l, e) }

    // Backup and restore through rclone's REST server are byte-identical.
    func testRESTRoundTrip() throws { let (l, e) = try restLocation(); try roundTrip(l, e) }

    // An rclone remote (here rclone's local filesystem remote): snap starts `rclone serve
    // restic` as a child on a loopback port and stops it on exit.
    func testRcloneRemoteRoundTrip() throws {
        _ = try serverSetting("REST_URL")  // rclone is installed by the server scripts
        try roundTrip("rclone:\(work)/rclone-repo", [:])
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(work)/rclone-repo/config"), "the repository lives where rclone put it")
        let leftover = Process()
        leftover.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        leftover.arguments = ["-f", "serve restic --addr 127.0.0.1:0 \(work)/rclone-repo"]
        leftover.standardOutput = FileHandle.nullDevice
        try leftover.run()
        leftover.waitUntilExit()
        XCTAssertNotEqual(leftover.terminationStatus, 0, "no rclone child outlives snap")
    }

    // `sftp:ALIAS:PATH` reaches the server, port, user, key and known_hosts file that
    // `~/.ssh/config` names for ALIAS, as `ssh ALIAS` (and so restic) would; nothing set in
    // SNAP_SFTP_*.
    func testSFTPHostAliasFromSSHConfig() throws {
        let port = try serverSetting("SFTP_PORT"), root = try serverSetting("SFTP_ROOT"), user = try serverSetting("SFTP_USER")
        let home = "\(work)/home"
        try FileManager.default.createDirectory(atPath: "\(home)/.ssh", withIntermediateDirectories: true)
        let config = """
            Host other
              Port 1
            Host snap-test-alias
              HostName 127.0.0.1
              Port \(port)
              User \(user)
              IdentityFile \(try serverSetting("SFTP_KEY"))
              UserKnownHostsFile \(try serverSetting("SFTP_KNOWN_HOSTS"))
            Host *
              Port 22
            """
        try config.write(toFile: "\(home)/.ssh/config", atomically: false, encoding: .utf8)
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "sftp:snap-test-alias:\(root)/alias-\(UUID().uuidString.prefix(8))",
                                             "SNAP_PASSWORD": "pw", "HOME": home, "SSH_AUTH_SOCK": ""])
        try snap.expect(0, ["init"])
        try snap.expect(0, ["backup", "-q", "\(work)/src"])
        XCTAssertTrue(try snap.expect(0, ["ls", "latest"]).stdout.contains("notes.txt"))
    }

    // With no key file anywhere, the key loaded into ssh-agent signs in; without the agent,
    // one line says where a key may come from.
    func testSFTPKeyFromTheAgent() throws {
        let port = try serverSetting("SFTP_PORT"), root = try serverSetting("SFTP_ROOT"), user = try serverSetting("SFTP_USER")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-agent") else { throw XCTSkip("ssh-agent is not installed") }
        let socket = "\(work)/agent.sock", home = "\(work)/empty-home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
        agent.arguments = ["-D", "-a", socket]
        agent.standardOutput = FileHandle.nullDevice
        try agent.run()
        defer { agent.terminate(); agent.waitUntilExit() }
        var waited = 0
        while !FileManager.default.fileExists(atPath: socket) && waited < 100 { usleep(50_000); waited += 1 }
        let added = try runTool("/usr/bin/ssh-add", [try serverSetting("SFTP_KEY")], environment: ["SSH_AUTH_SOCK": socket])
        XCTAssertEqual(added.status, 0, "ssh-add")
        let location = "sftp://\(user)@127.0.0.1:\(port)\(root)/agent-\(UUID().uuidString.prefix(8))"
        let base = ["SNAP_REPOSITORY": location, "SNAP_PASSWORD": "pw", "HOME": home,
                    "SNAP_SFTP_KNOWN_HOSTS": try serverSetting("SFTP_KNOWN_HOSTS")]
        let snap = SnapProcess(environment: base.merging(["SSH_AUTH_SOCK": socket]) { $1 })
        try snap.expect(0, ["init"])
        try snap.expect(0, ["backup", "-q", "\(work)/src"])
        let without = try SnapProcess(environment: base.merging(["SSH_AUTH_SOCK": ""]) { $1 }).run(["snapshots"])
        XCTAssertEqual(without.status, 1, without.stderr)
        XCTAssertTrue(without.stderr.contains("no SSH key") && without.stderr.contains("ssh-agent"), without.stderr)
        XCTAssertEqual(without.stderr.split(separator: "\n").count, 1, without.stderr)
    }

    // With 20 % of backend calls failing transiently, backup and restore still succeed (retries absorb them).
    func testTransientFailuresAreRetried() throws {
        let (l, e) = try s3Location()
        try roundTrip(l, e, faults: "transient=0.2,seed=11")
        let (r, re) = try restLocation()
        try roundTrip(r, re, faults: "transient=0.2,seed=12")
    }

    // A wrong secret key: one clear error naming the refusal, exit 1, and no retries.
    func testWrongSecretKeyFailsOnceAndClearly() throws {
        let (l, e) = try s3Location()
        try SnapProcess(environment: ["SNAP_REPOSITORY": l, "SNAP_PASSWORD": "pw"].merging(e) { $1 }).expect(0, ["init"])
        let secret = try serverSetting("AWS_SECRET_ACCESS_KEY")
        let wrong = String(secret.reversed())
        let result = try SnapProcess(environment: ["SNAP_REPOSITORY": l, "SNAP_PASSWORD": "pw", "AWS_SECRET_ACCESS_KEY": wrong])
            .run(["snapshots"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertFalse(result.stderr.contains("retry"), result.stderr)
        XCTAssertFalse(result.stderr.contains(wrong), "the secret must never be printed")
    }
}
