import SnapCore
import Dispatch
import Synchronization

/// Runs independent jobs on a fixed number of threads.
enum ParallelWork {
    /// Calls `body` once for each index in `0..<count`, on at most `workers` threads at a
    /// time; each thread takes the next index when it finishes one, so memory held per job
    /// (a pack being verified) is bounded by `workers`. Returns when every call has returned.
    static func forEach(_ count: Int, workers: Int, _ body: @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let next = Mutex(0)
        let threads = max(1, min(workers, count))
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let i = next.withLock { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard i < count else { return }
                body(i)
            }
        }
    }

    /// Like `forEach`, collecting one result per index, in index order.
    static func map<T: Sendable>(_ count: Int, workers: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let results = Mutex([T?](repeating: nil, count: count))
        forEach(count, workers: workers) { i in
            let value = body(i)
            results.withLock { $0[i] = value }
        }
        // Every index in 0..<count was visited exactly once above.
        return results.withLock { $0.map { $0! } }
    }

    /// Starts `map` on a thread of its own and returns at once, so the caller can do other
    /// work meanwhile; `wait()` on the result gives the values.
    static func mapInBackground<T: Sendable>(_ count: Int, workers: Int, label: String,
                                             _ body: @escaping @Sendable (Int) -> T) -> Pending<[T]> {
        let pending = Pending<[T]>()
        DispatchQueue(label: label).async {
            pending.fulfil(.success(map(count, workers: workers, body)))
        }
        return pending
    }
}
