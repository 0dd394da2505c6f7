#if canImport(Glibc)
import Glibc
#endif

/// How long locks live, and how far a host's clock may be from the storage's
/// (FORMAT.md, "Locks and deletion marks").
public struct LockTiming: Sendable {
    /// A lock holder rewrites its lock this often.
    public var refreshInterval: Double = 5 * 60
    /// A lock not refreshed for this long belongs to a dead process and is ignored.
    public var staleAfter: Double = 30 * 60
    /// The largest difference between a host's clock and the storage's that locks tolerate:
    /// an hour, and five minutes for the measurement. A writer whose clock is further off
    /// refuses to run; readers count a lock alive this much longer than `staleAfter`.
    public var clockSkew: Double = 65 * 60
    /// How long `RepositoryLock.release` waits for the lock's removal before the command goes
    /// on (and prints its result). A server that stops answering would otherwise hold the
    /// result back for every retry of the removal (minutes); the removal goes on behind, and
    /// the end of the process waits for it a while longer (`removalWaitAtExit`).
    public var releaseWait: Double = 2
    /// How long the end of a process waits, in all, for lock removals still under way
    /// (`RepositoryLock.finishRemovals`); a lock not removed by then is left to go stale, as
    /// a killed command's lock is.
    public static let removalWaitAtExit: Double = 18

    public init() {}

    /// Whether a lock is still alive.
    ///
    /// - Parameters:
    ///   - now: this host's estimate of the storage's time (`RepositoryLock.storageNow`).
    ///   - measured: whether `now` is corrected by a measured offset (`clockOffset` known).
    ///
    /// A lock written on this host (`localHost`) by a process that no longer exists is dead
    /// at once. Otherwise, when both the storage's modification time of the file and the
    /// storage's time now are known, the storage's clock alone decides: no host's clock
    /// enters, and a lock not rewritten for `staleAfter` plus one refresh interval is dead.
    /// Without them the writer's `refreshed` time decides, trusted up to `clockSkew` (the
    /// most a writer's clock may be off the storage's) beyond `staleAfter`.
    public func isAlive(_ file: CoordinationFile, now: Timestamp, measured: Bool, localHost: String) -> Bool {
        let record = file.record
        if record.hostname == localHost && kill(record.pid, 0) != 0 && errno == ESRCH { return false }
        if measured, let modified = file.modified {
            return Double(now.seconds) - modified < staleAfter + refreshInterval
        }
        return Double(now.seconds - record.refreshedTime.seconds) < staleAfter + clockSkew
    }
}

/// This process's ID, as recorded in locks.
func getpidValue() -> Int32 { getpid() }
