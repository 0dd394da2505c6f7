import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import Synchronization
import XCTest

/// Removing a lock when the command is done (campaign 16, F4: a check whose lock could not be
/// removed withheld its result for the removal's retries, minutes).
final class LockReleaseTests: XCTestCase {
    // The removal hangs: the command goes on after `releaseWait`, and the removal still
    // happens behind it.
    func testReleaseWaitsAtMostReleaseWait() throws {
        let memory = MemoryBackend()
        let slow = FaultInjectingBackend(memory, rules: [FaultRule(.delete, .delay(3), probability: 1, kind: .locks)])
        let repository = try makeEngineRepository(on: slow)
        var timing = LockTiming()
        timing.releaseWait = 0.3
        let lock = try RepositoryLock(kind: .backup, repository: repository, hostname: "test-host", timing: timing)
        let name = try XCTUnwrap(try memory.list(.locks).first?.file.name)
        XCTAssertEqual(try memory.list(.locks).count, 1)
        let start = Date()
        lock.release()
        let waited = Date().timeIntervalSince(start)
        XCTAssertLessThan(waited, 2.5, "release waited for the hanging removal")
        XCTAssertGreaterThanOrEqual(waited, 0.25, "release did not wait for the removal at all")
        XCTAssertEqual(try memory.list(.locks).count, 1, "the removal is still under way")
        XCTAssertTrue(RepositoryLock.finishRemovals(within: 0).contains(name), "a removal still under way is named at the process's end")
        XCTAssertFalse(RepositoryLock.finishRemovals(within: 5).contains(name), "waited for at the process's end until it finished")
        XCTAssertEqual(try memory.list(.locks).count, 0, "the removal finished behind the command")
    }

    // A removal that fails (after its retries) leaves the lock: named at the process's end.
    func testAFailedRemovalIsNamed() throws {
        let memory = MemoryBackend()
        let failing = FaultInjectingBackend(memory, rules: [FaultRule(.delete, .permanent, probability: 1, kind: .locks)])
        let repository = try makeEngineRepository(on: failing)
        let lock = try RepositoryLock(kind: .backup, repository: repository, hostname: "test-host")
        let name = try XCTUnwrap(try memory.list(.locks).first?.file.name)
        lock.release()
        XCTAssertTrue(RepositoryLock.finishRemovals(within: 5).contains(name))
        XCTAssertEqual(try memory.list(.locks).count, 1)
    }

    // A removal that answers at once is waited for: the lock is gone when release returns.
    func testQuickRemovalIsDoneWhenReleaseReturns() throws {
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        let lock = try RepositoryLock(kind: .backup, repository: repository, hostname: "test-host")
        let name = try XCTUnwrap(try memory.list(.locks).first?.file.name)
        lock.release()
        XCTAssertEqual(try memory.list(.locks), [])
        XCTAssertFalse(RepositoryLock.finishRemovals(within: 0).contains(name))
    }
}

/// A check hands its report over before it waits for its lock's removal, so that one
/// interrupted during that wait still prints its result (campaign 19, F3).
final class CheckReportedBeforeReleaseTests: XCTestCase {
    func testReportIsHandedOverBeforeTheLockRemovalEnds() throws {
        let memory = MemoryBackend()
        _ = try makeEngineRepository(on: memory)
        let slow = FaultInjectingBackend(memory, rules: [FaultRule(.delete, .delay(1.5), probability: 1, kind: .locks)])
        var options = CheckOptions()
        options.lockHostname = "test-host"
        options.lookFirstWithoutLock = false
        let handed = Mutex<(healthy: Bool, locks: Int, at: Date)?>(nil)
        let report = try Checker(repository: try Repository.open(backend: slow, password: testPassword), options: options).run { report in
            let locks = (try? memory.list(.locks).count) ?? -1
            handed.withLock { $0 = (report.isHealthy, locks, Date()) }
        }
        let returned = Date()
        let (healthy, locks, at) = try XCTUnwrap(handed.withLock { $0 })
        XCTAssertTrue(healthy && report.isHealthy)
        XCTAssertEqual(locks, 1, "handed over while the check's lock was still there")
        XCTAssertGreaterThan(returned.timeIntervalSince(at), 1.0, "handed over only after the lock's removal")
        XCTAssertEqual(try memory.list(.locks), [])
    }
}

/// A backup says it saved its snapshot before it waits for its lock's removal (campaign 19,
/// F2: an interruption during that wait said "nothing was saved").
final class BackupSavedBeforeReleaseTests: XCTestCase {
    func testSavedIsToldBeforeTheLockRemovalEnds() throws {
        let source = try TemporaryDirectory(prefix: "snap-saved-early")
        defer { source.remove() }
        try PruneTesting.writeFiles(source.appending("data"), count: 2, seed: 5)
        let memory = MemoryBackend()
        _ = try makeEngineRepository(on: memory)
        let slow = FaultInjectingBackend(memory, rules: [FaultRule(.delete, .delay(1.5), probability: 1, kind: .locks)])
        var options = BackupOptions(paths: [source.path], hostname: "test-host", username: "tester")
        options.lockTiming.releaseWait = 10
        let told = Mutex<(SnapshotID, Date)?>(nil)
        let result = try Archiver(repository: try Repository.open(backend: slow, password: testPassword), options: options,
                                  saved: { id in told.withLock { $0 = (id, Date()) } }).run()
        let returned = Date()
        let (id, at) = try XCTUnwrap(told.withLock { $0 })
        XCTAssertEqual(id, result.id)
        XCTAssertGreaterThan(returned.timeIntervalSince(at), 1.0, "told only after the lock's removal")
        XCTAssertEqual(try memory.list(.locks), [])
    }
}
