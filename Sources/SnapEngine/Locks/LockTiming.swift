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

    public init() {}

    /// Whether a lock is still alive at `now`, the storage's time as well as this host knows
    /// it (`RepositoryLock.storageNow`).
    ///
    /// A lock written on this host (`localHost`) by a process that no longer exists is dead
    /// at once. Any other lock is alive while either clock says it was refreshed recently:
    /// the writer's (its `refreshed` time, trusted up to `clockSkew`, the most a writer's
    /// clock may be off) or the storage's (the file's modification time, where known, which
    /// no host's clock affects). So a host whose clock is behind cannot make its live lock
    /// look dead, and one that is ahead only keeps its lock alive longer.
    public func isAlive(_ file: CoordinationFile, now: Timestamp, localHost: String) -> Bool {
        let record = file.record
        if record.hostname == localHost && kill(record.pid, 0) != 0 && errno == ESRCH { return false }
        if Double(now.seconds - record.refreshedTime.seconds) < staleAfter + clockSkew { return true }
        if let modified = file.modified, Double(now.seconds) - modified < staleAfter + refreshInterval { return true }
        return false
    }
}

/// This process's ID, as recorded in locks.
func getpidValue() -> Int32 { getpid() }
