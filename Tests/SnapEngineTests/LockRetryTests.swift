@testable import SnapEngine
import XCTest

/// `--retry-lock`'s loop, on a clock the test moves: which errors it retries, how long it
/// waits between tries, and that it gives up with the refusal once the time is up.
final class LockRetryTests: XCTestCase {
    private final class Clock {
        var now = 1000.0
        var slept: [Double] = []
    }

    private func retry(_ duration: Double, _ clock: Clock) -> LockRetry {
        var retry = LockRetry(duration: duration)
        retry.now = { clock.now }
        retry.sleep = { clock.slept.append($0); clock.now += $0 }
        retry.jitter = { 1 }
        return retry
    }

    func testRetriesUntilTheOtherPruneIsDone() throws {
        let clock = Clock()
        var tries = 0, told = 0
        let value = try retry(600, clock).run(waiting: { _, left in
            told += 1
            XCTAssertEqual(left, 600, accuracy: 1e-9)
        }) { () -> Int in
            tries += 1
            if tries < 5 { throw PruneError.anotherPruneRunning(host: "h", pid: 7) }
            return 42
        }
        XCTAssertEqual(value, 42)
        XCTAssertEqual(tries, 5)
        XCTAssertEqual(told, 1, "the wait is announced once")
        XCTAssertEqual(clock.slept, [5, 10, 20, 40], "waits double from 5 s")
    }

    func testGivesUpWithTheRefusalWhenTimeIsUp() {
        let clock = Clock()
        var tries = 0
        XCTAssertThrowsError(try retry(100, clock).run(waiting: { _, _ in }) { () -> Int in
            tries += 1
            throw RepairError.pruneRunning(host: "h", pid: 7)
        }) { error in
            guard case RepairError.pruneRunning = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(clock.slept, [5, 10, 20, 40, 25], "the last wait ends at the deadline")
        XCTAssertEqual(tries, 6)
    }

    func testWaitsNoLongerThanAMinute() throws {
        let clock = Clock()
        var tries = 0
        _ = try retry(3600, clock).run(waiting: { _, _ in }) { () -> Int in
            tries += 1
            if tries < 9 { throw PruneError.anotherPruneRunning(host: "h", pid: 7) }
            return 0
        }
        XCTAssertEqual(clock.slept, [5, 10, 20, 40, 60, 60, 60, 60])
    }

    // Other errors, those about locks included, are not waited on.
    func testOtherErrorsAreNotRetried() {
        let clock = Clock()
        var tries = 0
        XCTAssertThrowsError(try retry(600, clock).run(waiting: { _, _ in XCTFail("no wait") }) { () -> Int in
            tries += 1
            throw CoordinationError.clockSkew(offset: 7200, allowed: 3900, location: "here")
        })
        XCTAssertEqual(tries, 1)
        XCTAssertEqual(clock.slept, [])
    }

    // Waits are stretched or shortened at random, so that two prunes that refused each
    // other do not meet again.
    func testWaitsAreJittered() throws {
        let clock = Clock()
        var retry = retry(600, clock)
        var factors = [0.5, 1.5, 0.8].makeIterator()
        retry.jitter = { factors.next() ?? 1 }
        var tries = 0
        _ = try retry.run(waiting: { _, _ in }) { () -> Int in
            tries += 1
            if tries < 4 { throw PruneError.anotherPruneRunning(host: "h", pid: 7) }
            return 0
        }
        XCTAssertEqual(clock.slept, [2.5, 15, 16])
        let spread = Set((0..<20).map { _ in LockRetry(duration: 1).jitter() })
        XCTAssertGreaterThan(spread.count, 1)
        XCTAssertTrue(spread.allSatisfy { (0.5...1.5).contains($0) })
    }

    // Without --retry-lock (0 s) a refusal is thrown at once.
    func testZeroDurationTriesOnce() {
        let clock = Clock()
        var tries = 0
        XCTAssertThrowsError(try retry(0, clock).run(waiting: { _, _ in XCTFail("no wait") }) { () -> Int in
            tries += 1
            throw PruneError.anotherPruneRunning(host: "h", pid: 7)
        })
        XCTAssertEqual(tries, 1)
    }
}
