import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
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
        XCTAssertEqual(try memory.list(.locks).count, 1)
        let start = Date()
        lock.release()
        let waited = Date().timeIntervalSince(start)
        XCTAssertLessThan(waited, 2.5, "release waited for the hanging removal")
        XCTAssertGreaterThanOrEqual(waited, 0.25, "release did not wait for the removal at all")
        XCTAssertEqual(try memory.list(.locks).count, 1, "the removal is still under way")
        var polls = 0
        while try memory.list(.locks).count > 0 && polls < 100 { usleep(50_000); polls += 1 }
        XCTAssertEqual(try memory.list(.locks).count, 0, "the removal finished behind the command")
    }

    // A removal that answers at once is waited for: the lock is gone when release returns.
    func testQuickRemovalIsDoneWhenReleaseReturns() throws {
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        let lock = try RepositoryLock(kind: .backup, repository: repository, hostname: "test-host")
        lock.release()
        XCTAssertEqual(try memory.list(.locks), [])
    }
}
