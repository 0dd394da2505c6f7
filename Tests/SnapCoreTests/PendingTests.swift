import Dispatch
import Foundation
import Synchronization
import XCTest
@testable import SnapCore

final class PendingTests: XCTestCase {
    // Eight threads already asleep on one value are all woken by its one fulfil, and a
    // value fulfilled with an error gives each of them the error.
    func testEveryWaiterAsleepBeforeFulfilIsWoken() {
        let value = Pending<Int>(), failed = Pending<Int>()
        let results = Mutex<[String]>([])
        let started = DispatchSemaphore(value: 0), done = DispatchGroup()
        for _ in 0..<8 {
            done.enter()
            Thread.detachNewThread {
                started.signal()
                let v = (try? value.wait()).map(String.init) ?? "none"
                let e = (try? failed.wait()).map(String.init) ?? "error"
                results.withLock { $0.append(v + "/" + e) }
                done.leave()
            }
        }
        for _ in 0..<8 { started.wait() }
        Thread.sleep(forTimeInterval: 0.05)  // let them reach the wait (a later one finds the value set)
        struct Boom: Error {}
        value.fulfil(.success(5))
        failed.fulfil(.failure(Boom()))
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "a waiter was never woken")
        XCTAssertEqual(results.withLock { $0 }, Array(repeating: "5/error", count: 8))
    }

    // Values are spread over the wait room's stripes: of 1,000 live values, no stripe holds
    // more than a tenth (a broken mix would put them all on one).
    func testStripesSpreadNeighbouringValues() {
        let values = (0..<1000).map { _ in Pending<Int>() }
        var counts: [Int: Int] = [:]
        for v in values { counts[PendingWaitRoom.stripeForTesting(ObjectIdentifier(v)), default: 0] += 1 }
        XCTAssertGreaterThan(counts.count, 32)
        XCTAssertLessThan(counts.values.max() ?? 0, 100)
    }
}
