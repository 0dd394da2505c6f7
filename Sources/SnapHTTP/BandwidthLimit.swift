import Glibc
import Synchronization

/// A rate in bytes per second shared by every transfer it is given to (`--limit-upload`,
/// `--limit-download`): each transfer asks before it moves a piece of its body and waits
/// its turn, so all of them together keep to the rate however many run at once, and the
/// rate is kept within each transfer (the server sees a steady stream, not bursts).
///
/// Turns are handed out in the order asked, one piece after another: each piece waits until
/// the pieces granted before it and itself have had their time at the rate (a piece
/// received is handed on, a piece to send is sent, at the end of its time), so that no
/// transfer, however short, goes faster than the rate. Time not used (no transfer running)
/// is not saved up for a later burst.
public final class BandwidthLimit: Sendable {
    /// The rate, in bytes per second.
    public let bytesPerSecond: Int
    /// The most one transfer asks for at once: libcurl's upload buffer (16 KiB under a
    /// limit) and its download buffer (16 KiB by default) hand over at most this much.
    public static let largestPiece = 16 << 10
    /// When the pieces granted so far have used up their time, on `clock`'s scale.
    private let due: Mutex<Double>
    private let clock: @Sendable () -> Double
    /// Set by `lift`: turns are no longer waited for.
    private let lifted = Atomic<Bool>(false)

    /// - Parameter clock: seconds on a monotonic scale; tests give their own.
    public init(bytesPerSecond: Int, clock: @escaping @Sendable () -> Double = BandwidthLimit.monotonicSeconds) {
        self.bytesPerSecond = max(1, bytesPerSecond)
        self.clock = clock
        due = Mutex(-Double.infinity)
    }

    /// Takes a turn for `count` bytes and returns how many seconds to wait before moving them
    /// (none once the limit is lifted).
    public func reserve(_ count: Int) -> Double {
        guard !isLifted else { return 0 }
        return due.withLock { due in
            let now = clock()
            due = max(due, now) + Double(count) / Double(bytesPerSecond)
            return due - now
        }
    }

    /// Waits for the turn of `count` bytes (blocking the calling thread, a transfer's own),
    /// or until the limit is lifted.
    public func pace(_ count: Int) {
        var wait = reserve(count)
        while wait > 0 && !isLifted {
            // In slices, so that a lift ends the wait at once.
            let slice = min(wait, Self.slice)
            var time = timespec(tv_sec: Int(slice), tv_nsec: Int((slice - slice.rounded(.down)) * 1e9))
            var left = timespec()
            while nanosleep(&time, &left) != 0 && errno == EINTR { time = left }
            wait -= slice
        }
    }

    /// The longest a wait for a turn sleeps before it looks whether the limit was lifted.
    static let slice = 0.1

    /// Ends the limit for the rest of the process: the transfers under way and those after
    /// go at full speed. For an interrupted command, whose last requests (the index of what
    /// was uploaded, the lock's removal) must not wait behind turns at a low rate.
    public func lift() { lifted.store(true, ordering: .releasing) }

    /// Whether `lift` was called.
    public var isLifted: Bool { lifted.load(ordering: .acquiring) }

    /// Seconds of `CLOCK_MONOTONIC`, which steps of the wall clock do not move.
    @Sendable public static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// The limits a session's transfers keep to; `nil`: no limit that way.
public struct BandwidthLimits: Sendable {
    /// Bytes sent (uploads).
    public var upload: BandwidthLimit?
    /// Bytes received (downloads).
    public var download: BandwidthLimit?

    public init(upload: BandwidthLimit? = nil, download: BandwidthLimit? = nil) {
        self.upload = upload
        self.download = download
    }
}
