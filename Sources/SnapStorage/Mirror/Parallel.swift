import Dispatch
import Synchronization

/// Runs blocking calls (network transfers) on several threads at once.
///
/// Work goes to a private concurrent queue, which libdispatch backs with a new thread
/// whenever no idle one is free, so blocked calls never wait for the CPU-sized pool as
/// `DispatchQueue.concurrentPerform` would make them.
enum Parallel {
    private static let queue = DispatchQueue(label: "snap.mirror", attributes: .concurrent)

    /// Calls `body` for each of `0..<count`, on at most `width` threads (the calling thread
    /// is one of them), and returns the results in index order once all calls are done.
    static func map<T: Sendable>(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
        guard count > 0 else { return [] }
        let workers = min(max(1, width), count)
        if workers == 1 { return (0..<count).map(body) }
        let shared = Shared<T>(count: count)
        let work: @Sendable () -> Void = {
            while true {
                let i = shared.next.add(1, ordering: .relaxed).oldValue
                guard i < count else { return }
                let value = body(i)
                shared.results.withLock { $0[i] = value }
            }
        }
        let group = DispatchGroup()
        for _ in 1..<workers { queue.async(group: group, execute: work) }
        work()
        group.wait()
        // Every index below `count` was taken by exactly one worker, which stored its result.
        return shared.results.withLock { $0.map { $0! } }
    }

    /// Calls `body` for each of `0..<count` on at most `width` threads; returns when all are done.
    static func forEach(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) -> Void) {
        _ = map(count, width: width, body)
    }

    private final class Shared<T: Sendable>: Sendable {
        let next = Atomic<Int>(0)
        let results: Mutex<[T?]>
        init(count: Int) { results = Mutex([T?](repeating: nil, count: count)) }
    }
}
