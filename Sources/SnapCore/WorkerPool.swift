import Dispatch
import Synchronization

/// A fixed set of threads running submitted jobs in submission order.
///
/// At most `capacity` jobs wait at a time: `submit` blocks beyond that, so a producer that
/// is faster than the workers slows down instead of queueing work (and memory) without
/// bound. Each thread makes its own `Context` (a reusable buffer, say) and passes it to
/// every job it runs; a context never leaves its thread.
public final class WorkerPool<Context>: Sendable {
    public typealias Job = @Sendable (Context) -> Void

    private struct Queue {
        var jobs: [Job?] = []
        var head = 0
    }

    private let queue = Mutex(Queue())
    private let waiting = DispatchSemaphore(value: 0)
    private let space: DispatchSemaphore
    private let finished = DispatchGroup()
    private let threads: Int

    public init(threads: Int, capacity: Int, label: String, context: @escaping @Sendable () -> Context) {
        self.threads = max(1, threads)
        space = DispatchSemaphore(value: max(1, capacity))
        for i in 0..<self.threads {
            finished.enter()
            // A serial queue of its own gets a thread of its own (it targets the overcommit
            // pool), so a job that blocks never starves the other workers.
            DispatchQueue(label: "\(label).\(i)").async { [self] in
                defer { finished.leave() }
                let context = context()
                while let job = next() { job(context) }
            }
        }
    }

    /// Queues a job; blocks while `capacity` jobs are already waiting.
    public func submit(_ job: @escaping Job) {
        space.wait()
        queue.withLock { $0.jobs.append(job) }
        waiting.signal()
    }

    /// Lets the workers finish every queued job, then waits for them to stop.
    public func close() {
        release()
        finished.wait()
    }

    /// Lets the workers finish every queued job and stop, without waiting for them: for an
    /// owner's `deinit`, which may run on one of the workers (after its last job let go of
    /// the owner), where waiting would wait for itself.
    public func release() {
        for _ in 0..<threads {
            queue.withLock { $0.jobs.append(nil) }
            waiting.signal()
        }
    }

    /// The next job, or `nil` when the pool is closing.
    private func next() -> Job? {
        waiting.wait()
        let job: Job? = queue.withLock { q in
            let job = q.jobs[q.head]
            q.jobs[q.head] = nil  // release what the job holds as soon as it runs
            q.head += 1
            if q.head >= 64 && q.head * 2 >= q.jobs.count {
                q.jobs.removeFirst(q.head)
                q.head = 0
            }
            return job
        }
        if job != nil { space.signal() }
        return job
    }
}
