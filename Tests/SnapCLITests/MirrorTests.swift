import Foundation
import SnapTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end mirroring through the built binary: a local folder, S3 on radosgw, and a REST
/// server (a private `rclone serve restic` this test can stop and start) hold one repository.
final class MirrorTests: XCTestCase {
    private var work = ""
    private var rclone: Process?
    private var port = 0

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("mirror")
        for folder in 0..<3 {
            try FileManager.default.createDirectory(atPath: "\(work)/src/d\(folder)", withIntermediateDirectories: true)
            for file in 0..<12 {
                try Data(seededBytes(count: 200_000 + file * 1009, seed: UInt64(folder * 100 + file + 5000)))
                    .write(to: URL(fileURLWithPath: "\(work)/src/d\(folder)/f\(file).bin"))
            }
        }
    }

    override func tearDownWithError() throws {
        stopREST()
        try? FileManager.default.removeItem(atPath: work)
    }

    /// Starts rclone's REST server on `port` (chosen once), serving `work/rest`.
    private func startREST() throws {
        if port == 0 { port = try freePort() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/rclone")
        p.arguments = ["serve", "restic", "--addr", "127.0.0.1:\(port)", "\(work)/rest"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        rclone = p
        for _ in 0..<200 where !portAnswers(port) { usleep(20_000) }
        XCTAssertTrue(portAnswers(port), "rclone did not start")
    }

    private func stopREST() {
        guard let p = rclone, p.isRunning else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        rclone = nil
    }

    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw XCTSkip("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func portAnswers(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: in_port_t(UInt16(port).bigEndian), sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        return withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private func packs(in folder: String) -> Int {
        (FileManager.default.enumerator(atPath: "\(folder)/data")?.compactMap { $0 as? String } ?? []).filter { $0.count == 67 }.count
    }

    private func restoreAndCompare(_ arguments: [String], _ snap: SnapProcess, label: String) throws {
        let target = "\(work)/out-\(UUID().uuidString.prefix(6))"
        try snap.expect(0, ["restore", "latest", "--target", target, "-q"] + arguments)
        var comparison = TreeComparison()
        comparison.compare(Array("\(work)/src".utf8), Array("\(target)\(work)/src".utf8), compareOwners: false)
        XCTAssertEqual(comparison.differences, [], label)
        XCTAssertEqual(comparison.entriesCompared, 40, label)
    }

    private func status(_ replicas: [String], _ snap: SnapProcess, verify: Bool = false) throws -> [String: Any] {
        let out = try snap.expect(0, ["mirror", "status", "--json"] + (verify ? ["--verify"] : []) + replicas).stdout
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
    }

    // A replica's server dies mid-backup: the backup succeeds under the quorum policy and
    // names the lagging replica; mirror status shows the lag; mirror sync heals it; each
    // replica alone then restores the snapshot identical.
    func testReplicaOutageDuringBackupIsHealedBySync() throws {
        let s3 = "s3:\(try serverSetting("S3_ENDPOINT"))/snap-mirror-\(UUID().uuidString.prefix(8).lowercased())/repo"
        try startREST()
        let rest = "rest:http://127.0.0.1:\(port)/repo/"
        let local = "\(work)/local"
        let replicas = ["-r", local, "-r", s3, "-r", rest]
        let snap = SnapProcess(environment: ["SNAP_PASSWORD": "mirror pw"])
        try snap.expect(0, ["init", "--pack-size", "1"] + replicas)

        let backup = Process()
        backup.executableURL = URL(fileURLWithPath: SnapProcess.binary)
        backup.arguments = ["backup", "\(work)/src", "-q"] + replicas
        var env = ProcessInfo.processInfo.environment
        env["SNAP_PASSWORD"] = "mirror pw"
        backup.environment = env
        let errors = Pipe()
        backup.standardError = errors
        backup.standardOutput = FileHandle.nullDevice
        try backup.run()
        let before = packs(in: local)
        while backup.isRunning && packs(in: local) < before + 2 { usleep(1000) }
        stopREST()  // the REST replica's server dies mid-backup
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        backup.waitUntilExit()
        XCTAssertEqual(backup.terminationStatus, 0, stderr)
        XCTAssertTrue(stderr.contains("127.0.0.1:\(port)"), "the warning names the lagging replica: \(stderr)")

        try startREST()
        let lagging = try status(replicas, snap)
        XCTAssertEqual(lagging["in_sync"] as? Bool, false)
        try snap.expect(0, ["mirror", "sync"] + replicas)
        let healed = try status(replicas, snap, verify: true)
        XCTAssertEqual(healed["in_sync"] as? Bool, true, "\(healed)")
        for replica in [local, s3, rest] {
            try snap.expect(0, ["check", "--read-data", "-q", "-r", replica])
            try restoreAndCompare(["-r", replica], snap, label: "restore from \(replica) alone")
        }
    }

    // Local + SFTP + S3: a pack damaged on one replica: restore fails over to a good copy and
    // names the bad replica and writes the verified copy back (read-repair); damage no read has
    // met is found by status --verify and check, and repaired by sync --verify.
    func testDamagedPackOnOneReplicaFailsOverAndIsRepaired() throws {
        let s3 = "s3:\(try serverSetting("S3_ENDPOINT"))/snap-mirror-\(UUID().uuidString.prefix(8).lowercased())/repo"
        let port = try serverSetting("SFTP_PORT"), root = try serverSetting("SFTP_ROOT"), user = try serverSetting("SFTP_USER")
        let sftp = "sftp://\(user)@127.0.0.1:\(port)\(root)/mirror-\(UUID().uuidString.prefix(8))"
        let first = "\(work)/first"
        let replicas = ["-r", first, "-r", sftp, "-r", s3]
        let snap = SnapProcess(environment: ["SNAP_PASSWORD": "mirror pw", "SNAP_SFTP_KEY": try serverSetting("SFTP_KEY"),
                                             "SNAP_SFTP_KNOWN_HOSTS": try serverSetting("SFTP_KNOWN_HOSTS")])
        try snap.expect(0, ["init"] + replicas)
        try snap.expect(0, ["backup", "\(work)/src", "-q"] + replicas)

        let packFiles = (FileManager.default.enumerator(atPath: "\(first)/data")?.compactMap { $0 as? String } ?? []).filter { $0.count == 67 }
        let victim = try XCTUnwrap(packFiles.max { (try? FileManager.default.attributesOfItem(atPath: "\(first)/data/\($0)")[.size] as? Int) ?? 0 < (try? FileManager.default.attributesOfItem(atPath: "\(first)/data/\($1)")[.size] as? Int) ?? 0 })
        var bytes = try Data(contentsOf: URL(fileURLWithPath: "\(first)/data/\(victim)"))
        bytes[bytes.count / 3] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: "\(first)/data/\(victim)"))

        let target = "\(work)/failover"
        let restore = try snap.run(["restore", "latest", "--target", target] + replicas)
        XCTAssertEqual(restore.status, 0, restore.stderr)
        XCTAssertTrue(restore.stderr.contains(first), "the bad replica is named: \(restore.stderr)")
        var comparison = TreeComparison()
        comparison.compare(Array("\(work)/src".utf8), Array("\(target)\(work)/src".utf8), compareOwners: false)
        XCTAssertEqual(comparison.differences, [])

        // Read-repair: the restore wrote the verified copy back, so the replica alone checks clean
        // and a status without --verify has nothing to find.
        XCTAssertTrue(restore.stderr.contains("wrote the verified copy"), restore.stderr)
        try snap.expect(0, ["check", "--read-data", "-q", "-r", first])
        XCTAssertEqual(try status(replicas, snap)["in_sync"] as? Bool, true)

        // Damage no read has met: check and status --verify find it, sync --verify repairs it.
        try bytes.write(to: URL(fileURLWithPath: "\(first)/data/\(victim)"))
        let checked = try snap.run(["check", "--read-data", "-r", first])
        XCTAssertEqual(checked.status, 1, "check of the damaged replica alone fails")
        XCTAssertTrue((checked.stdout + checked.stderr).contains(String(victim.suffix(64)).prefix(8)), checked.stdout + checked.stderr)
        let found = try status(replicas, snap, verify: true)
        let firstStatus = (found["replicas"] as? [[String: Any]])?.first
        XCTAssertEqual((firstStatus?["damaged"] as? [String])?.contains { $0.contains(String(victim.suffix(64))) }, true, "\(found)")
        try snap.expect(0, ["mirror", "sync", "--verify"] + replicas)
        XCTAssertEqual(try status(replicas, snap, verify: true)["in_sync"] as? Bool, true)
        try snap.expect(0, ["check", "--read-data", "-q", "-r", first])
        try restoreAndCompare(["-r", first], snap, label: "restore from the repaired replica alone")
    }
}
