#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Temporary files this process is writing right now (`.tmp-…` files of the local backend),
/// so that an interrupted command removes them on its way out (`removeAll`, from the signal
/// handler's thread) instead of leaving them for a person to delete.
public enum InFlightFiles {
    private static let paths = Mutex<Set<String>>([])

    static func add(_ path: String) { _ = paths.withLock { $0.insert(path) } }
    static func remove(_ path: String) { _ = paths.withLock { $0.remove(path) } }

    /// Unlinks every temporary file being written. Their writers, if still running, fail.
    public static func removeAll() {
        for path in paths.withLock({ Array($0) }) { unlink(path) }
    }
}
