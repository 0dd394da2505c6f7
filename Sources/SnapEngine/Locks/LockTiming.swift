#if canImport(Glibc)
import Glibc
#endif

/// How long locks live, and how much clock difference between hosts is tolerated
/// (FORMAT.md, "Locks and deletion marks").
public struct LockTiming: Sendable {
    /// A lock holder rewrites its lock this often.
    public var refreshInterval: Double = 5 * 60
    /// A lock not refreshed for this long belongs to a dead process and is ignored.
    public var staleAfter: Double = 30 * 60
    /// The largest difference between two hosts' clocks that the protocol tolerates.
    public var clockSkew: Double = 10 * 60

    public init() {}

    /// Whether `record` (a lock) is still alive at `now`, allowing for clock skew.
    ///
    /// A lock written on this host (`localHost`) by a process that no longer exists is dead
    /// at once; other hosts' locks die when they have not been refreshed for `staleAfter`.
    public func isAlive(_ record: CoordinationRecord, now: Timestamp, localHost: String) -> Bool {
        if record.hostname == localHost && kill(record.pid, 0) != 0 && errno == ESRCH { return false }
        return Double(now.seconds - record.refreshedTime.seconds) < staleAfter + clockSkew
    }
}

/// This process's ID, as recorded in locks.
func getpidValue() -> Int32 { getpid() }
