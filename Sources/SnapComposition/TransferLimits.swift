import SnapHTTP
import Synchronization

/// The process's `--limit-upload` and `--limit-download`: one limit each, shared by every
/// replica's connections, since they share the user's line (restic limits its one backend).
public enum TransferLimits {
    private static let made = Mutex<[String: BandwidthLimit]>([:])

    /// The limits for these rates in KiB/s (0: none), the same objects on every call.
    public static func shared(uploadKiB: Int, downloadKiB: Int) -> BandwidthLimits {
        func limit(_ direction: String, _ kib: Int) -> BandwidthLimit? {
            guard kib > 0 else { return nil }
            return made.withLock { made in
                let key = "\(direction) \(kib)"
                if let existing = made[key] { return existing }
                let new = BandwidthLimit(bytesPerSecond: kib * 1024)
                made[key] = new
                return new
            }
        }
        return BandwidthLimits(upload: limit("up", uploadKiB), download: limit("down", downloadKiB))
    }

    /// Lifts every limit made (`BandwidthLimit.lift`): an interrupted command's last requests
    /// go at full speed.
    public static func liftAll() {
        for limit in made.withLock({ Array($0.values) }) { limit.lift() }
    }
}
