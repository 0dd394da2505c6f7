#if canImport(Glibc)
import Glibc
#endif
import SnapCore
import SnapRepository

/// What to back up and how to label it.
public struct BackupOptions: Sendable {
    /// Files and folders to back up, as given (relative to the working directory, or
    /// absolute); raw bytes, since a path need not be UTF-8.
    public var paths: [[UInt8]]
    /// Back up this stream as one file instead of `paths`.
    public var stream: StreamSource?
    public var tags: [String] = []
    public var hostname: String
    public var username: String
    /// The snapshot's time; now when `nil`.
    public var time: Timestamp?
    /// What to leave out (restic's exclude options).
    public var exclusions = BackupExclusions()
    /// The case-sensitive exclude patterns (`exclusions.patterns.patterns`).
    public var excludes: [PatternText] {
        get { exclusions.patterns.patterns }
        set { exclusions.patterns.patterns = newValue }
    }
    /// The snapshot to compare against; when `nil`, the latest of the same group (`groupBy`).
    public var parent: SnapshotID?
    /// What a snapshot must share with this backup to be its parent (restic's `--group-by`):
    /// by default the host and the paths.
    public var groupBy = SnapshotGrouping.hostAndPaths
    /// Read, chunk and count everything, but write nothing: no lock, pack, index or snapshot.
    public var dryRun = false
    /// Save no snapshot when the new root tree equals the parent's (nothing changed).
    public var skipIfUnchanged = false
    /// Read every file, even those the parent says are unchanged.
    public var force = false
    /// Change detection leaves out the inode number (file systems without stable inodes,
    /// such as some network and FUSE file systems) or the status-change time.
    public var ignoreInode = false
    public var ignoreCtime = false
    /// Lock lifetimes (FORMAT.md, "Locks and deletion marks").
    public var lockTiming = LockTiming()
    /// Whether the backup has been asked to stop (an interruption, whose cleanup is removing
    /// the lock): asked just before the snapshot is written, which then is not
    /// (`EngineError.stopped`), since the user asked for no snapshot.
    public var stopRequested: @Sendable () -> Bool = { false }
    /// Overrides the repository's compression level.
    public var compressionLevel: Int?
    /// Compression/encryption worker threads.
    public var workers = max(1, System.activeProcessorCount)
    /// Threads that open, read, chunk and hash files. One more than the cores, so that the
    /// cores stay busy while a reader waits for the disk or for the upload queue. A backup
    /// runs at most `maximumReaders` of them.
    public var readers = max(1, System.activeProcessorCount) + 1
    /// The most reader threads a backup runs, whatever `readers` says (`--read-concurrency`
    /// takes no more). Each reader keeps a buffer of a maximum chunk (4 MiB by default, up to
    /// 1 MiB of it resident between files) and opens up to 16 files ahead, and no disk or
    /// network file system gains from more reads at once than this; a value in the millions
    /// would only start threads until the system refused more.
    public static let maximumReaders = 1024
    /// Whether each reader opens a batch's small files and asks the kernel for their data
    /// before reading the first (`FileReader.Prefetch`): many disk requests in flight from
    /// a cold cache instead of one per reader. Off reads one file at a time; the snapshot
    /// is the same either way.
    public var prefetch = true
    /// Threads that `lstat` a folder's entries (`EntryStats`), mostly waiting on the disk
    /// from a cold cache; 1 stats them on the walking thread. The snapshot is the same.
    public var statThreads = 8
    /// Threads that list and examine the next subfolders ahead of the walk (`FolderScanner`),
    /// so that the one walking thread does not make every folder's system calls itself; 0
    /// lists every folder on the walking thread. The snapshot is the same.
    public var scanThreads = 4
    /// How files too large for one reader are read on several threads.
    public var segmentation = FileSegmentation()

    public init(paths: [[UInt8]], hostname: String, username: String) {
        self.paths = paths; self.hostname = hostname; self.username = username
    }

    public init(paths: [String], hostname: String, username: String) {
        self.init(paths: paths.map { Array($0.utf8) }, hostname: hostname, username: username)
    }
}

/// The outcome of a backup.
public struct BackupResult: Sendable {
    public enum State: Sendable, Equatable {
        /// A new snapshot was saved: `id` is its ID.
        case saved
        /// Nothing changed since the parent and `skipIfUnchanged` was set: `id` is the parent's.
        case unchanged
        /// A dry run: nothing was written and `id` is all zeros.
        case dryRun
    }
    public let state: State
    public let id: SnapshotID
    public let snapshot: Snapshot
    /// Files and folders that could not be read; each was left out and named in a warning.
    public let warnings: [String]
    /// Folders new, changed and unchanged since the parent snapshot.
    public var directories = DirectoryCounts()
    /// Exclude patterns that matched no entry the walk looked at.
    public var unmatchedPatterns: [UnmatchedPattern] = []
}
