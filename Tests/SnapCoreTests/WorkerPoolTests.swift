import Dispatch
import Foundation
import Synchronization
import XCTest
import SnapCore

final class WorkerPoolTests: XCTestCase {
    // Every job runs exactly once, on the workers' own contexts, and close waits for all.
    func testRunsEveryJobOnceBeforeCloseReturns() {
        let seen = Mutex<[Int]>([])
        let contexts = Mutex(0)
        let pool = WorkerPool<Int>(threads: 3, capacity: 2, label: "test.pool") {
            contexts.withLock { $0 += 1; return $0 }
        }
        for i in 0..<200 { pool.submit { _ in seen.withLock { $0.append(i) } } }
        pool.close()
        XCTAssertEqual(seen.withLock { $0.sorted() }, Array(0..<200))
        XCTAssertEqual(contexts.withLock { $0 }, 3, "one context per thread")
    }

    // Every worker is a thread of its own: two pools of 200 workers run 400 jobs at once,
    // each waiting until all have started. On libdispatch's pool (255 threads on Linux) the
    // jobs beyond it never started, and a backup with about 119 workers hung so.
    func testWorkersBeyondLibdispatchsThreadLimitAllRunAtOnce() {
        let perPool = 200
        let arrived = DispatchGroup()
        for _ in 0..<(2 * perPool) { arrived.enter() }
        let timedOut = Mutex(0)
        let pools = (0..<2).map { i in
            WorkerPool<Void>(threads: perPool, capacity: perPool, label: "test.wide.\(i)") { () }
        }
        XCTAssertEqual(pools.map(\.threads), [perPool, perPool])
        for pool in pools {
            for _ in 0..<perPool {
                pool.submit { _ in
                    arrived.leave()
                    // Bounded, so that a regression fails instead of hanging the test run.
                    if arrived.wait(timeout: .now() + 30) == .timedOut { timedOut.withLock { $0 += 1 } }
                }
            }
        }
        for pool in pools { pool.close() }
        XCTAssertEqual(timedOut.withLock { $0 }, 0, "some workers never ran while the others waited for them")
    }

    // One thread runs jobs in submission order (the tree writer relies on it).
    func testOneThreadKeepsSubmissionOrder() {
        let seen = Mutex<[Int]>([])
        let pool = WorkerPool<Void>(threads: 1, capacity: 4, label: "test.order") { () }
        for i in 0..<100 { pool.submit { _ in seen.withLock { $0.append(i) } } }
        pool.close()
        XCTAssertEqual(seen.withLock { $0 }, Array(0..<100))
    }

    // submit blocks once `capacity` jobs wait: with the only worker held, the third submit
    // (one running, one waiting) cannot return until the worker is released.
    func testSubmitBlocksWhenTheQueueIsFull() {
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let pool = WorkerPool<Void>(threads: 1, capacity: 1, label: "test.full") { () }
        pool.submit { _ in started.signal(); release.wait() }
        started.wait()
        pool.submit { _ in }
        let thirdReturned = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { pool.submit { _ in }; thirdReturned.signal() }
        XCTAssertEqual(thirdReturned.wait(timeout: .now() + 0.3), .timedOut, "submit returned while the queue was full")
        release.signal()
        XCTAssertEqual(thirdReturned.wait(timeout: .now() + 10), .success)
        pool.close()
    }

    // A pending value hands its result, or its error, to every waiter.
    func testPendingDeliversValueAndErrorToEveryWaiter() throws {
        struct Boom: Error {}
        let value = Pending<Int>()
        let failed = Pending<Int>()
        DispatchQueue.global().async { value.fulfil(.success(7)); failed.fulfil(.failure(Boom())) }
        XCTAssertEqual(try value.wait(), 7)
        XCTAssertEqual(try value.wait(), 7)
        XCTAssertThrowsError(try failed.wait()) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(try Pending(3).wait(), 3)
    }

    // Values sharing one wake-up signal: four threads wait on 2,000 values fulfilled in a
    // shuffled order by two other threads; every waiter gets its own value, none is left
    // asleep (the group would time out).
    func testManyPendingValuesWithConcurrentWaiters() {
        let values = (0..<2000).map { _ in Pending<Int>() }
        let received = Mutex([Int](repeating: -1, count: values.count))
        let waiters = DispatchGroup()
        // Threads of their own: blocked waiters would starve Dispatch's small global pool.
        for w in 0..<4 {
            waiters.enter()
            Thread.detachNewThread {
                for i in stride(from: w, to: values.count, by: 4) {
                    let v = (try? values[i].wait()) ?? -2
                    received.withLock { $0[i] = v }
                }
                waiters.leave()
            }
        }
        let order = Array(0..<values.count).shuffled()
        for half in 0..<2 {
            Thread.detachNewThread {
                for i in order[(half * 1000)..<(half * 1000 + 1000)] { values[i].fulfil(.success(i * 3)) }
            }
        }
        XCTAssertEqual(waiters.wait(timeout: .now() + 30), .success, "a waiter was never woken")
        XCTAssertEqual(received.withLock { $0 }, (0..<values.count).map { $0 * 3 })
    }

    // An owner whose last reference goes with its pool's last job stops the pool from its
    // deinit, which then runs on a worker: `release` does not wait for that worker.
    func testReleaseFromAWorkerDoesNotWaitForItself() {
        final class Owner: Sendable {
            let pool = WorkerPool<Void>(threads: 1, capacity: 1, label: "snap.test.owner") { () }
            let gone: DispatchSemaphore
            init(gone: DispatchSemaphore) { self.gone = gone }
            deinit { pool.release(); gone.signal() }
        }
        let gone = DispatchSemaphore(value: 0), started = DispatchSemaphore(value: 0), proceed = DispatchSemaphore(value: 0)
        var owner: Owner? = Owner(gone: gone)
        owner?.pool.submit { [owner] _ in
            started.signal()
            proceed.wait()
            _ = owner
        }
        started.wait()
        owner = nil
        proceed.signal()
        XCTAssertEqual(gone.wait(timeout: .now() + 10), .success, "the owner's deinit did not finish")
    }
}
