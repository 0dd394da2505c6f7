import Synchronization

/// Live counters of a running backup, read by the CLI's progress line and JSON status
/// messages, and each settled file and folder for verbose listings.
public final class BackupProgress: Sendable {
    public struct Counts: Sendable {
        public var files = 0
        public var bytes: UInt64 = 0
        /// Totals found by the scanner so far, and whether it has finished.
        public var totalFiles = 0
        public var totalBytes: UInt64 = 0
        public var scanFinished = false
        public var currentPath = ""
        /// Entries that could not be read (each with a warning).
        public var errors = 0
    }

    /// What happened to one file or folder, compared with the parent snapshot.
    public enum Action: String, Sendable {
        case new, modified, unchanged
    }

    /// A file or folder settled by the backup.
    public struct Item: Sendable {
        public let path: [UInt8]
        public let isDirectory: Bool
        public let action: Action
        /// A file's size (0 for folders).
        public let size: UInt64
    }

    private let counts = Mutex(Counts())
    private let observe: (@Sendable (Item) -> Void)?

    /// - Parameter observe: called with every file and folder as it is settled, from the
    ///   backup's threads (for `-v` listings); `nil` costs nothing.
    public init(observe: (@Sendable (Item) -> Void)? = nil) { self.observe = observe }

    public var snapshot: Counts { counts.withLock { $0 } }

    /// A file settled; `bytes` are those not already counted by `bytesRead` (an unchanged file's size).
    func fileDone(bytes: UInt64) { counts.withLock { $0.files += 1; $0.bytes += bytes } }
    /// Bytes of a file read so far, counted as they are chunked so that the progress moves inside large files.
    func bytesRead(_ count: UInt64) { counts.withLock { $0.bytes += count } }
    func setCurrent(_ path: String) { counts.withLock { $0.currentPath = path } }
    func scanned(files: Int, bytes: UInt64) { counts.withLock { $0.totalFiles += files; $0.totalBytes += bytes } }
    func scanFinished() { counts.withLock { $0.scanFinished = true } }
    func error() { counts.withLock { $0.errors += 1 } }

    func item(_ path: [UInt8], isDirectory: Bool = false, action: Action, size: UInt64 = 0) {
        observe?(Item(path: path, isDirectory: isDirectory, action: action, size: size))
    }
}
