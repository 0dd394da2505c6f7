import Foundation
import SnapTestSupport
import XCTest

/// restic's lock options. `--retry-lock`: a prune (or `repair index`) that finds another
/// prune holding the repository gives up at once without it (exit 11), tries again for the
/// given time with it, and goes ahead once the other is done. The other prune is a real one,
/// kept busy by a storage whose listing of `data/` takes 8 s (`SNAP_FAULT_INJECTION`, for
/// tests). `--no-lock`: a check writes no lock.
final class LockOptionTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("retrylock")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: false)
        try Data("content".utf8).write(to: URL(fileURLWithPath: "\(work)/src/file"))
        try snap.expect(0, ["backup", "\(work)/src", "-q"])
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private var locks: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/locks")) ?? []).filter { !$0.hasPrefix(".") }
    }

    func testWaitsForTheOtherPrune() throws {
        let slowListing = ["SNAP_FAULT_INJECTION": "delay=8,methods=list,kind=data"]
        let other = try RunningSnap(["prune"], environment: snap.environment.merging(slowListing) { $1 })
        XCTAssertTrue(other.wait(20) { !locks.isEmpty }, "the other prune took its lock: \(other.stderr)")

        // restic's `cat lock`: the lock as JSON.
        let lock = try XCTUnwrap(locks.first)
        let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["cat", "lock", String(lock.prefix(8))]).stdout.utf8)) as? [String: Any])
        XCTAssertEqual(record["kind"] as? String, "prune", "\(record)")

        let refused = try snap.run(["prune"])
        XCTAssertEqual(refused.status, 11, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("another prune or a 'repair index' is running"), refused.stderr)

        let start = Date()
        let tooShort = try snap.run(["repair", "index", "--retry-lock", "2s"])
        XCTAssertEqual(tooShort.status, 11, tooShort.stderr)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 2, "it tried for the time given")
        XCTAssertTrue(tooShort.stderr.contains("holds the repository (host "), tooShort.stderr)
        XCTAssertTrue(tooShort.stderr.contains("trying again for up to 2 s (--retry-lock)"), tooShort.stderr)
        XCTAssertTrue(other.process.isRunning, "the other prune still ran when the short wait ended")

        let waited = try snap.run(["prune", "--retry-lock", "1m"])
        XCTAssertEqual(waited.status, 0, waited.stderr)
        XCTAssertTrue(waited.stderr.contains("trying again for up to 60 s (--retry-lock)"), waited.stderr)
        XCTAssertFalse(other.process.isRunning, "it went ahead only after the other prune")
        other.finish()
        XCTAssertEqual(other.process.terminationStatus, 0, other.stderr)
        XCTAssertEqual(locks, [], "both prunes removed their locks")
        try snap.expect(0, ["check", "-q"])
    }

    // -q leaves out the line that says it waits; a duration that is not one is a usage error.
    func testQuietAndBadDurations() throws {
        try snap.expect(0, ["prune", "-q", "--retry-lock", "5s"])
        for text in ["0s", "soon", "-5m", "200h"] {
            let result = try snap.run(["prune", "--retry-lock", text])
            XCTAssertEqual(result.status, 64, text)
            XCTAssertTrue(result.stderr.contains("--retry-lock '\(text)' is not a duration"), result.stderr)
        }
    }

    // check --read-data writes a lock while it reads packs, and none with --no-lock (for
    // storage this host may only read). Pack reads take 3 s here, so the check is watched
    // while it runs.
    func testCheckWithNoLockWritesNone() throws {
        let slowPacks = ["SNAP_FAULT_INJECTION": "delay=3,methods=read,kind=data"]
        for noLock in [false, true] {
            let check = try RunningSnap(["check", "--read-data"] + (noLock ? ["--no-lock"] : []),
                                        environment: snap.environment.merging(slowPacks) { $1 })
            var sawLock = false
            while check.process.isRunning {
                sawLock = sawLock || !locks.isEmpty
                usleep(20_000)
            }
            check.finish()
            XCTAssertEqual(check.process.terminationStatus, 0, check.stderr)
            XCTAssertEqual(sawLock, !noLock, noLock ? "--no-lock: no lock" : "a lock while packs are read")
            XCTAssertEqual(locks, [])
        }
    }
}
