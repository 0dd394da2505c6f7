import Foundation
import SnapHTTP
import Synchronization
import XCTest

/// The shared rate limit's arithmetic, on a clock the test moves: each piece waits until
/// the pieces granted before it have had their time, and idle time buys no burst.
final class BandwidthLimitTests: XCTestCase {
    /// A clock that moves only when told.
    private final class ManualClock: Sendable {
        let now = Mutex(100.0)
        func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    }

    func testPiecesWaitForTheirTurn() {
        let clock = ManualClock()
        let limit = BandwidthLimit(bytesPerSecond: 1000) { clock.now.withLock { $0 } }
        XCTAssertEqual(limit.reserve(500), 0.5, accuracy: 1e-9, "even the first piece takes its time: no burst")
        XCTAssertEqual(limit.reserve(500), 1.0, accuracy: 1e-9, "the second after the first's 0.5 s and its own")
        clock.advance(0.1)
        XCTAssertEqual(limit.reserve(1000), 1.9, accuracy: 1e-9, "the third after both, 2 s from the start")
        clock.advance(1.9)
        XCTAssertEqual(limit.reserve(1), 0.001, accuracy: 1e-9, "on time: only its own time")
    }

    // A short transfer keeps to the rate too: four pieces of 16 KiB at 1 KiB/s take 64 s.
    func testAShortTransferTakesItsWholeTime() {
        let clock = ManualClock()
        let limit = BandwidthLimit(bytesPerSecond: 1024) { clock.now.withLock { $0 } }
        var total = 0.0
        for _ in 0..<4 {
            let wait = limit.reserve(16 << 10)
            clock.advance(wait)
            total += wait
        }
        XCTAssertEqual(total, 64, accuracy: 1e-9)
    }

    func testIdleTimeIsNotSavedUp() {
        let clock = ManualClock()
        let limit = BandwidthLimit(bytesPerSecond: 1000) { clock.now.withLock { $0 } }
        XCTAssertEqual(limit.reserve(100), 0.1, accuracy: 1e-9)
        clock.advance(60)
        XCTAssertEqual(limit.reserve(5000), 5, accuracy: 1e-9)
        XCTAssertEqual(limit.reserve(1000), 6, accuracy: 1e-9, "a minute idle bought nothing")
    }

    // Many threads at once share the rate: together their waits line up end to end, as if
    // one transfer had sent every byte.
    func testConcurrentTransfersShareOneRate() {
        let clock = ManualClock()
        let limit = BandwidthLimit(bytesPerSecond: 4096) { clock.now.withLock { $0 } }
        let waits = Mutex<[Double]>([])
        DispatchQueue.concurrentPerform(iterations: 64) { _ in
            let wait = limit.reserve(1024)
            waits.withLock { $0.append(wait) }
        }
        let sorted = waits.withLock { $0.sorted() }
        XCTAssertEqual(sorted.count, 64)
        for (i, wait) in sorted.enumerated() {
            XCTAssertEqual(wait, Double(i + 1) * 0.25, accuracy: 1e-9, "the \(i)th piece waits for the \(i) before it, and its own time")
        }
    }

    // A lifted limit grants every turn at once, and a transfer already waiting for a long turn
    // stops waiting (an interrupted command's last requests must not queue behind turns).
    func testLiftEndsWaitsUnderWay() {
        let limit = BandwidthLimit(bytesPerSecond: 1)
        XCTAssertGreaterThan(limit.reserve(1), 0)
        let ended = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            limit.pace(3600)  // an hour's turn at 1 byte/s
            ended.signal()
        }
        XCTAssertEqual(ended.wait(timeout: .now() + 0.5), .timedOut, "it waits its turn")
        limit.lift()
        XCTAssertEqual(ended.wait(timeout: .now() + 30), .success, "the lift ended the wait")
        XCTAssertEqual(limit.reserve(1 << 20), 0)
    }
}
