import XCTest
import SnapStorage
import SnapTestSupport

/// `RetryingBackend`: transient failures are retried `attempts` times in all, reads
/// `readAttempts` times where that is set (a mirror's replicas), writes always `attempts`.
final class RetryingBackendTests: XCTestCase {
    private let file = FileName(.data, String(repeating: "ab", count: 32))
    private let quick = RetryPolicy(attempts: 4, baseDelay: 0.001, maxDelay: 0.001, readAttempts: 2)

    func testReadsGiveUpAfterReadAttempts() throws {
        let store = MemoryBackend()
        try store.write(file, data: [1, 2, 3])
        let faulty = FaultInjectingBackend(store, rules: [FaultRule(.read, .transient, calls: [1, 2, 3]), FaultRule(.list, .transient, calls: [1, 2])])
        let retrying = RetryingBackend(faulty, policy: quick)
        XCTAssertThrowsError(try retrying.read(file, range: nil))
        XCTAssertEqual(faulty.calls(.read), 2, "one try and one retry")
        XCTAssertThrowsError(try retrying.list(.data))
        XCTAssertEqual(faulty.calls(.list), 2)
        XCTAssertEqual(try retrying.list(.data).count, 1, "the next call tries again")
    }

    func testWritesKeepEveryAttempt() throws {
        let faulty = FaultInjectingBackend(MemoryBackend(), rules: [FaultRule(.write, .transient, calls: [1, 2, 3])])
        try RetryingBackend(faulty, policy: quick).write(file, data: [4])
        XCTAssertEqual(faulty.calls(.write), 4)
    }

    // A mirror's replica (`timedOutReadAttempts` 1): a read that timed out is not retried,
    // one that failed otherwise is, and a write that timed out keeps every attempt.
    func testTimedOutReadsGiveUpAfterTimedOutReadAttempts() throws {
        let store = MemoryBackend()
        try store.write(file, data: [6])
        var policy = quick
        policy.timedOutReadAttempts = 1
        let timingOut = FaultInjectingBackend(store, rules: [FaultRule(.read, .timedOut, calls: [1]), FaultRule(.write, .timedOut, calls: [1, 2])])
        let retrying = RetryingBackend(timingOut, policy: policy)
        XCTAssertThrowsError(try retrying.read(file, range: nil)) { XCTAssertTrue(($0 as? StorageError)?.isTimeout == true, "\($0)") }
        XCTAssertEqual(timingOut.calls(.read), 1, "no retry after a timeout")
        try retrying.write(FileName(.data, String(repeating: "cd", count: 32)), data: [7])
        XCTAssertEqual(timingOut.calls(.write), 3)
        let failing = FaultInjectingBackend(store, rules: [FaultRule(.read, .transient, calls: [1])])
        XCTAssertEqual(try RetryingBackend(failing, policy: policy).read(file, range: nil), [6])
        XCTAssertEqual(failing.calls(.read), 2, "other transient failures keep readAttempts")
    }

    func testWithoutReadAttemptsReadsRetryAsWritesDo() throws {
        let store = MemoryBackend()
        try store.write(file, data: [5])
        let faulty = FaultInjectingBackend(store, rules: [FaultRule(.read, .transient, calls: [1, 2, 3])])
        var policy = quick
        policy.readAttempts = nil
        XCTAssertEqual(try RetryingBackend(faulty, policy: policy).read(file, range: nil), [5])
        XCTAssertEqual(faulty.calls(.read), 4)
    }
}
