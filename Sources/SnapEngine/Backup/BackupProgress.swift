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
        /// The bytes of the file's content that were new to the repository (stored by this
        /// file first; uncompressed): 0 for folders and unchanged files.
        public var added: UInt64 = 0
    }

    // Counters apart, each atomic: every reader thread counts each file and chunk, and one
    // lock for all of them was the busiest lock of a small-file backup with many readers
    // (`_lockSlow` 14 % of the samples with 16 readers on 2 cores). The progress line reads
    // them a few times a second; it needs no consistent cut across them.
    private let files = Atomic<Int>(0)
    private let bytes = Atomic<UInt64>(0)
    private let totalFiles = Atomic<Int>(0)
    private let totalBytes = Atomic<UInt64>(0)
    private let finished = Atomic<Bool>(false)
    private let errors = Atomic<Int>(0)
    /// The path being read, as bytes: made displayable only when the progress line asks.
    private let current = Mutex<[UInt8]>([])
    private let observe: (@Sendable (Item) -> Void)?

    /// - Parameter observe: called with every file and folder as it is settled, from the
    ///   backup's threads (for `-v` listings); `nil` costs nothing.
    public init(observe: (@Sendable (Item) -> Void)? = nil) { self.observe = observe }

    public var snapshot: Counts {
        Counts(files: files.load(ordering: .relaxed), bytes: bytes.load(ordering: .relaxed),
               totalFiles: totalFiles.load(ordering: .relaxed), totalBytes: totalBytes.load(ordering: .relaxed),
               scanFinished: finished.load(ordering: .relaxed), currentPath: PathBytes.display(current.withLock { $0 }),
               errors: errors.load(ordering: .relaxed))
    }

    /// A file settled; `bytes` are those not already counted by `bytesRead` (an unchanged file's size).
    func fileDone(bytes count: UInt64) {
        files.add(1, ordering: .relaxed)
        if count > 0 { bytes.add(count, ordering: .relaxed) }
    }
    /// Bytes of a file read so far, counted as they are chunked so that the progress moves inside large files.
    func bytesRead(_ count: UInt64) { bytes.add(count, ordering: .relaxed) }
    /// The path being read now. When another thread is setting it at this instant, this one
    /// is passed over: the line shows one of the paths being read either way.
    func setCurrent(_ path: [UInt8]) { current.withLockIfAvailable { $0 = path } }
    func scanned(files count: Int, bytes size: UInt64) {
        totalFiles.add(count, ordering: .relaxed)
        totalBytes.add(size, ordering: .relaxed)
    }
    func scanFinished() { finished.store(true, ordering: .relaxed) }
    func error() { errors.add(1, ordering: .relaxed) }

    func item(_ path: [UInt8], isDirectory: Bool = false, action: Action, size: UInt64 = 0, added: UInt64 = 0) {
        observe?(Item(path: path, isDirectory: isDirectory, action: action, size: size, added: added))
    }
}
