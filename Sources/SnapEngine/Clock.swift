#if canImport(Glibc)
import Glibc
#endif
import SnapCore

/// The current time.
public enum WallClock {
    public static var now: Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanoseconds: UInt32(ts.tv_nsec))
    }

    /// `now` in seconds since 1970.
    public static var seconds: Double {
        let t = now
        return Double(t.seconds) + Double(t.nanoseconds) / 1e9
    }

    /// `now` as RFC 3339 in the local time zone.
    public static var nowText: String {
        let t = now
        return RFC3339.format(t, utcOffset: RFC3339.localOffset(at: t.seconds))
    }
}

/// Elapsed-time measurement, immune to changes of the wall clock.
///
/// `CLOCK_BOOTTIME`, not `CLOCK_MONOTONIC`: on Linux the monotonic clock stops while the
/// machine is suspended, so a backup on a laptop whose lid was closed for an hour would
/// believe it had refreshed its lock a moment ago, while every other host saw the lock go
/// stale and a prune could delete the packs it depends on (`SnapshotDependencies`).
enum Clock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Facts about the machine.
public enum System {
    /// How many worker threads a pool should run: the CPUs this process may use (its
    /// affinity mask and cgroup CPU quota), or `SNAP_WORKERS` (`Processors.workers`).
    public static var activeProcessorCount: Int { Processors.workers }
}
