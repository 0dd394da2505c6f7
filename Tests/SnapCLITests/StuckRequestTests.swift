import Foundation
import SnapTestSupport
import XCTest

/// `--stuck-request-timeout`, and a replica whose server takes requests and never answers:
/// the mirror gives up on it after one stall, not after a retry's second one.
final class StuckRequestTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("stuck")
        snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init", "-r", "\(work)/repo"])
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: false)
        try Data("content".utf8).write(to: URL(fileURLWithPath: "\(work)/src/file"))
        try snap.expect(0, ["backup", "-r", "\(work)/repo", "\(work)/src"])
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    // The hung replica is read first; after one stall of the given length the mirror reads
    // the other replica, names the hung one, and lists the snapshot. The hung replica got
    // one request in all (`-v`'s request report): its timed-out read was not retried, and
    // it was not asked again (for the key files' listing) once it had timed out.
    func testAHungReplicaIsLeftAfterOneStall() throws {
        let server = try SilentServer()
        let hung = "rest:http://127.0.0.1:\(server.port)/repo/"
        let result = try snap.run(["snapshots", "-v", "--stuck-request-timeout", "2s", "-r", hung, "-r", "\(work)/repo"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("\(work)/src"), result.stdout)
        XCTAssertTrue(result.stderr.contains("warning: replica \(hung) failed to read config"), "the hung replica is named: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("Operation too slow"), result.stderr)
        XCTAssertFalse(result.stderr.contains("retry 1 of"), "a timed-out read is not retried on a replica: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("requests to \(hung): 1 read (0 B), 0 lists,"), result.stderr)
    }

    // Alone (no mirror), a stalled request is retried: the stall time applies to each try.
    func testAStalledRequestIsRetriedWithoutAMirror() throws {
        let server = try SilentServer()
        let result = try snap.run(["snapshots", "--stuck-request-timeout", "1", "-r", "rest:http://127.0.0.1:\(server.port)/repo/"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("retry 1 of 5"), result.stderr)
        XCTAssertTrue(result.stderr.contains("Less than 1024 bytes/sec transferred the last 1 seconds"), result.stderr)
    }

    func testDurationsThatAreNotOneAreRefused() throws {
        for text in ["0.5s", "abc", "5x", "", "-3s"] {
            let result = try snap.run(["snapshots", "-r", "\(work)/repo", "--stuck-request-timeout", text])
            XCTAssertEqual(result.status, 64, "\(text): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("--stuck-request-timeout"), result.stderr)
        }
        for text in ["90s", "1m30s", "2m", "1.5h", "30"] {
            try snap.expect(0, ["snapshots", "-q", "-r", "\(work)/repo", "--stuck-request-timeout", text])
        }
    }
}
