import Foundation
import SnapTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `--limit-upload` and `--limit-download` against the real REST server. Each test asserts
/// only a lower bound on the time taken (the least the limit allows): a busy machine makes
/// a run slower, never faster, so the bound cannot fail by noise, and it fails when a limit
/// is not kept.
final class TransferLimitTests: XCTestCase {
    private var work = ""

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("limits")
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: true)
        // Incompressible, so that what is sent is about what is read.
        try Data(seededBytes(count: 1 << 20, seed: 77)).write(to: URL(fileURLWithPath: "\(work)/src/data.bin"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func restLocation() throws -> String {
        "rest:\(try serverSetting("REST_URL"))limits-\(UUID().uuidString.prefix(8).lowercased())/"
    }

    private func timed(_ snap: SnapProcess, _ arguments: [String]) throws -> Double {
        let start = Date()
        try snap.expect(0, arguments)
        return Date().timeIntervalSince(start)
    }

    // 1 MiB of new data at 256 KiB/s takes 4 s to send, and
    // restoring it at 256 KiB/s as long to receive.
    func testUploadAndDownloadKeepToTheirLimits() throws {
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": try restLocation(), "SNAP_PASSWORD": "pw"])
        try snap.expect(0, ["init", "-q"])
        let upload = try timed(snap, ["backup", "\(work)/src", "-q", "--limit-upload", "256"])
        XCTAssertGreaterThan(upload, 3.5, "1 MiB sent at 256 KiB/s")
        let download = try timed(snap, ["restore", "latest", "--target", "\(work)/out", "-q", "--limit-download", "256"])
        XCTAssertGreaterThan(download, 3.5, "1 MiB received at 256 KiB/s")
        XCTAssertEqual(FileManager.default.contents(atPath: "\(work)/out\(work)/src/data.bin"),
                       FileManager.default.contents(atPath: "\(work)/src/data.bin"))
    }

    // The replicas of a mirror share one limit, as they share the user's line: 1 MiB sent
    // to each of two replicas at 512 KiB/s in all takes 4 s, not the 2 s of a limit each.
    func testReplicasShareOneLimit() throws {
        let first = try restLocation(), second = try restLocation()
        let snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw"])
        try snap.expect(0, ["init", "-q", "-r", first, "-r", second])
        let upload = try timed(snap, ["backup", "\(work)/src", "-q", "-r", first, "-r", second, "--limit-upload", "512"])
        XCTAssertGreaterThan(upload, 3.5, "2 MiB sent at 512 KiB/s")
    }

    // An interrupted backup under a limit of 1 KiB/s does not wait for turns at that rate
    // before it removes its lock: the limit is lifted for the last requests, so it ends at
    // once, its lock removed (before, the removal waited behind the upload under way).
    func testInterruptionDoesNotWaitForTurns() throws {
        let location = try restLocation()
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": location, "SNAP_PASSWORD": "pw"])
        try snap.expect(0, ["init", "-q"])
        let running = try RunningSnap(["backup", "\(work)/src", "--limit-upload", "1", "--connections", "1"],
                                      environment: ["SNAP_REPOSITORY": location, "SNAP_PASSWORD": "pw"])
        XCTAssertTrue(running.wait(30) { (try? snap.run(["list", "locks", "--no-lock"]).stdout.isEmpty) == false }, "the backup holds its lock")
        usleep(1_500_000)  // its pack upload is under way, a KiB a second
        let start = Date()
        kill(running.process.processIdentifier, SIGINT)
        running.finish()
        let took = Date().timeIntervalSince(start)
        XCTAssertEqual(running.process.terminationStatus, 130, running.stderr)
        XCTAssertFalse(running.stderr.contains("a lock may be left"), running.stderr)
        XCTAssertLessThan(took, 20, "no wait for turns at 1 KiB/s: \(running.stderr)")
        XCTAssertEqual(try snap.expect(0, ["list", "locks"]).stdout, "", "its lock is removed")
    }

    func testLimitMustBeARate() throws {
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw"])
        let result = try snap.run(["snapshots", "--limit-upload", "-5"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("--limit-upload must be a number of KiB/s"), result.stderr)
    }
}
