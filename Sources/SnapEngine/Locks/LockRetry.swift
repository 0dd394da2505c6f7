#if canImport(Glibc)
import Glibc
#endif

/// restic's `--retry-lock`: a command that finds the repository held by another prune (or
/// `repair index`) tries again for a while instead of giving up at once, as a nightly
/// `forget --prune` that meets a long prune from another host would want.
///
/// Only that refusal is retried: the command fails it before it writes anything (its own
/// lock is removed on the way out). An unreadable file in `locks/` or a skewed clock is not
/// another process holding the repository, and waiting would not change it.
public struct LockRetry {
    /// How long to keep trying, in seconds; 0: try once.
    public var duration: Double
    /// Seconds between the first two tries; each wait doubles, up to `longestWait` (before `jitter`).
    public var firstWait = 5.0
    public var longestWait = 60.0
    /// Seconds on a monotonic scale, and a way to wait; tests give their own.
    var now: () -> Double = Clock.now
    var sleep: (Double) -> Void = { seconds in usleep(UInt32(min(seconds, 3600) * 1_000_000)) }
    /// Each wait is stretched by this factor: two prunes that refused each other at the same
    /// instant (each saw the other's lock) must not try again at the same instant forever.
    var jitter: () -> Double = { Double.random(in: 0.5...1.5) }

    public init(duration: Double) { self.duration = duration }

    /// Whether `error` is the refusal that another process's prune lock causes.
    public static func isHeldByAnother(_ error: Error) -> Bool { holder(of: error) != nil }

    /// The host and process that hold the repository, as the refusal names them.
    public static func holder(of error: Error) -> (host: String, pid: Int32)? {
        switch error {
        case let PruneError.anotherPruneRunning(host, pid), let RepairError.pruneRunning(host, pid): return (host, pid)
        default: return nil
        }
    }

    /// Runs `body`, and again after each refusal while time is left. `waiting` is told the
    /// refusal and the seconds left, once, before the first wait.
    /// - Throws: the last refusal once the time is up, or any other error at once.
    public func run<T>(waiting: (Error, Double) -> Void, _ body: () throws -> T) throws -> T {
        let deadline = now() + duration
        var wait = firstWait
        var told = false
        while true {
            do {
                return try body()
            } catch where Self.isHeldByAnother(error) {
                let left = deadline - now()
                guard left > 0 else { throw error }
                if !told {
                    waiting(error, left)
                    told = true
                }
                sleep(min(wait * jitter(), left))
                wait = min(wait * 2, longestWait)
            }
        }
    }
}
