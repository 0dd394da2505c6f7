import Dispatch
import Synchronization

/// A fixed set of threads running submitted jobs in submission order.
///
/// At most `capacity` jobs wait at a time: `submit` blocks beyond that, so a producer that
/// is faster than the workers slows down instead of queueing work (and memory) without
/// bound. Each thread makes its own `Context` (a reusable buffer, say) and passes it to
/// every job it runs; a context never leaves its thread.
///
/// Every worker is a thread of its own (`DedicatedThread`), not a libdispatch work item. A
/// worker blocks for the pool's whole life: waiting for jobs, and in jobs that wait for
/// another pool, the disk or the network. On libdispatch's threads (at most 255 on Linux,
/// shared by every queue) a backup's pools held all of them from about 119 workers on
/// (`workers` upload threads, `workers + 1` readers and a few more): the workers left without
/// a thread never took their jobs, and the others waited for those jobs forever.
///
/// When the system refuses a thread (a limit on threads or processes), the pool runs on
/// those it got; with none, `submit` runs each job on the calling thread, with a context
/// made for that job, so that nothing ever waits for a worker that does not exist.
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
    /// Worker threads started; 0 runs every job in `submit`. Set only while `init` runs.
    private let started = Atomic(0)
    private let context: @Sendable () -> Context

    /// - Parameters:
    ///   - threads: worker threads to start, at least 1.
    ///   - capacity: jobs that may wait, at least 1.
    ///   - label: the threads' name (`DedicatedThread.start`).
    ///   - context: makes a worker's context, on that worker's thread.
    public init(threads: Int, capacity: Int, label: String, context: @escaping @Sendable () -> Context) {
        space = DispatchSemaphore(value: max(1, capacity))
        self.context = context
        for _ in 0..<max(1, threads) {
            finished.enter()
            let running = DedicatedThread.start(name: label) { [self] in
                defer { finished.leave() }
                let context = context()
                while let job = next() { job(context) }
            }
            guard running else {
                finished.leave()
                break
            }
            started.add(1, ordering: .releasing)
        }
    }

    /// Worker threads started (fewer than asked only when the system refused some).
    public var threads: Int { started.load(ordering: .acquiring) }

    /// Queues a job; blocks while `capacity` jobs are already waiting.
    public func submit(_ job: @escaping Job) {
        if threads == 0 { return job(context()) }
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
