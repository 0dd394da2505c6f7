import Synchronization

/// Live counters of a running backup, read by the CLI's progress line.
public final class BackupProgress: Sendable {
    public struct Counts: Sendable {
        public var files = 0
        public var bytes: UInt64 = 0
        /// Totals found by the scanner so far, and whether it has finished.
        public var totalFiles = 0
        public var totalBytes: UInt64 = 0
        public var scanFinished = false
        public var currentPath = ""
    }

    private let counts = Mutex(Counts())

    public init() {}

    public var snapshot: Counts { counts.withLock { $0 } }

    /// A file settled; `bytes` are those not already counted by `bytesRead` (an unchanged file's size).
    func fileDone(bytes: UInt64) { counts.withLock { $0.files += 1; $0.bytes += bytes } }
    /// Bytes of a file read so far, counted as they are chunked so that the progress moves inside large files.
    func bytesRead(_ count: UInt64) { counts.withLock { $0.bytes += count } }
    func setCurrent(_ path: String) { counts.withLock { $0.currentPath = path } }
    func scanned(files: Int, bytes: UInt64) { counts.withLock { $0.totalFiles += files; $0.totalBytes += bytes } }
    func scanFinished() { counts.withLock { $0.scanFinished = true } }
}
