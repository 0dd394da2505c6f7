import Foundation
import SnapTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A storage that stops answering when a command removes its lock (campaigns 16, 19–21):
/// the command prints its result first, waits a bounded time for the removal at the process's
/// end, and says which lock may be left; an interruption during that wait ends it at once.
/// The storage is a local repository whose deletes in `locks/` wait 40 s
/// (`SNAP_FAULT_INJECTION`, for tests); `check --read-data` always takes a lock (a plain
/// check looks without one first).
final class LockRemovalWaitTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])
    let hangingLockRemoval = ["SNAP_FAULT_INJECTION": "delay=40,methods=delete,kind=locks"]

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("lockwait")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: false)
        try Data("content".utf8).write(to: URL(fileURLWithPath: "\(work)/src/file"))
        try snap.expect(0, ["backup", "\(work)/src"])
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    private var locks: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/locks")) ?? []).filter { !$0.hasPrefix(".") }
    }

    // The report comes at once, the warning at the end of the bounded wait (2 + 18 s), and
    // the exit code is the command's; the lock left is one `snap unlock` removes.
    func testTheResultComesFirstAndTheLockLeftIsNamed() throws {
        let started = Date()
        let check = try RunningSnap(["check", "--read-data"], environment: snap.environment.merging(hangingLockRemoval) { $1 })
        XCTAssertTrue(check.wait(10) { check.stdout.contains("no errors were found") }, "report: \(check.stdout) \(check.stderr)")
        XCTAssertTrue(check.process.isRunning, "still waiting for the lock's removal once the report is out")
        XCTAssertFalse(check.stderr.contains("did not answer in time"), check.stderr)
        check.finish()
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(check.process.terminationStatus, 0, check.stderr)
        XCTAssertGreaterThan(elapsed, 15, "waited for the removal before exiting")
        XCTAssertLessThan(elapsed, 35, "the wait is bounded")
        let lockNames = locks
        XCTAssertEqual(lockNames.count, 1, "the lock whose removal did not finish is left")
        let warning = "snap: warning: the storage did not answer in time while this command removed its lock \(lockNames.first?.prefix(8) ?? "?")"
        XCTAssertTrue(check.stderr.contains(warning), check.stderr)
        try snap.expect(0, ["unlock"])
        XCTAssertEqual(locks, [], "snap unlock on this host removes the lock of a process that is gone")
    }

    // A SIGINT during that wait ends it within the cleanup's 2 s, says the command had ended
    // and a lock may be left, and exits 130; the report printed stands.
    func testAnInterruptionDuringTheWaitEndsItAndSaysTheResultStands() throws {
        let check = try RunningSnap(["check", "--read-data"], environment: snap.environment.merging(hangingLockRemoval) { $1 })
        XCTAssertTrue(check.wait(10) { check.stdout.contains("no errors were found") }, "report: \(check.stdout) \(check.stderr)")
        usleep(3_000_000)  // past `release`'s own 2 s wait, into the process's end
        XCTAssertTrue(check.process.isRunning)
        let signalled = Date()
        kill(check.process.processIdentifier, SIGINT)
        check.finish()
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 6, "the interruption ended the wait")
        XCTAssertEqual(check.process.terminationStatus, 130, check.stderr)
        XCTAssertTrue(check.stderr.contains("snap: interrupted by SIGINT: the command had ended; its result stands"), check.stderr)
        XCTAssertTrue(check.stderr.contains("a lock may be left"), check.stderr)
        XCTAssertFalse(check.stderr.contains("indexing what was uploaded"), "nothing is indexed once the command has ended: \(check.stderr)")
    }

    // A backup interrupted during that wait names the snapshot it saved.
    func testAnInterruptedBackupThatHadEndedNamesItsSnapshot() throws {
        try Data("more".utf8).write(to: URL(fileURLWithPath: "\(work)/src/more"))
        let backup = try RunningSnap(["backup", "\(work)/src"], environment: snap.environment.merging(hangingLockRemoval) { $1 })
        XCTAssertTrue(backup.wait(10) { backup.stdout.contains("saved") }, "summary: \(backup.stdout) \(backup.stderr)")
        let id = try XCTUnwrap(backup.stdout.split(separator: "\n").first { $0.hasPrefix("snapshot ") }?.split(separator: " ").dropFirst().first)
        usleep(1_000_000)
        kill(backup.process.processIdentifier, SIGINT)
        backup.finish()
        XCTAssertEqual(backup.process.terminationStatus, 130, backup.stderr)
        XCTAssertTrue(backup.stderr.contains("interrupted by SIGINT: the command had ended; its result stands: snapshot \(id) was saved"),
                      backup.stderr)
    }

    // A backup interrupted while it still runs, which then finishes while the interruption
    // waits for its lock's removal (campaign 22 F2): it stops before it writes its snapshot,
    // as the signal asked, rather than saving one and exiting 130. Its standard input is
    // held open until after the signal, so that it cannot finish before.
    func testABackupInterruptedWhileItsLockRemovalWaitsSavesNoSnapshot() throws {
        let slowRemoval = ["SNAP_FAULT_INJECTION": "delay=5,methods=delete,kind=locks"]
        let input = Pipe()
        let backup = try RunningSnap(["backup", "--stdin", "--stdin-filename", "streamed"],
                                 environment: snap.environment.merging(slowRemoval) { $1 }, input: input)
        input.fileHandleForWriting.write(Data(repeating: 7, count: 100_000))
        XCTAssertTrue(backup.wait(20) { !locks.isEmpty }, "the backup took its lock: \(backup.stderr)")
        kill(backup.process.processIdentifier, SIGINT)
        usleep(500_000)
        input.fileHandleForWriting.write(Data(repeating: 9, count: 100_000))
        try input.fileHandleForWriting.close()  // the backup can finish now, within the lock's removal
        backup.finish()
        XCTAssertEqual(backup.process.terminationStatus, 130, backup.stderr)
        XCTAssertFalse(backup.stdout.contains("saved"), backup.stdout)
        XCTAssertTrue(backup.stderr.contains("interrupted by SIGINT: nothing was saved"), backup.stderr)
        let listed = try snap.expect(0, ["snapshots", "--json"]).stdout
        XCTAssertEqual(try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [Any]).count, 1,
                       "only the snapshot of setUp")
        try snap.expect(0, ["check", "-q"])
    }
}
