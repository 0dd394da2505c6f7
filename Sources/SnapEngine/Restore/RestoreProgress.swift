import Synchronization

/// Live counters of a running restore, read by the CLI's progress line and JSON `status`
/// messages (restic's restore fields). Totals grow as the walk plans entries, batch by batch.
public final class RestoreProgress: Sendable {
    public struct Counts: Sendable, Equatable {
        /// Files and other non-folder entries planned so far, with the bytes of the files.
        public var totalFiles = 0
        public var totalBytes: UInt64 = 0
        /// Restored or updated (created anew).
        public var filesRestored = 0
        /// Content bytes written so far (counted as chunks are written).
        public var bytesRestored: UInt64 = 0
        /// Left as they were: unchanged, or skipped by the overwrite mode.
        public var filesSkipped = 0
        public var bytesSkipped: UInt64 = 0
        public var filesDeleted = 0
        public init() {}
    }

    private let counts = Mutex(Counts())

    public init() {}

    public var snapshot: Counts { counts.withLock { $0 } }

    func planned(size: UInt64) { counts.withLock { $0.totalFiles += 1; $0.totalBytes += size } }
    func wrote(_ bytes: Int) { counts.withLock { $0.bytesRestored += UInt64(bytes) } }

    func record(_ action: RestoreEvent.Action, size: UInt64, isFolder: Bool) {
        counts.withLock { c in
            switch action {
            case .restored, .updated: if !isFolder { c.filesRestored += 1 }
            case .unchanged, .skipped:
                if !isFolder { c.filesSkipped += 1; c.bytesSkipped += size }
            case .deleted: c.filesDeleted += 1
            }
        }
    }
}
