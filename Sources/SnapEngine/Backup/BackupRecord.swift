import SnapCore
import SnapRepository
import Synchronization

/// What a running backup has counted and warned about, shared by the walking thread, the
/// file readers and the tree writer.
final class BackupRecord: Sendable {
    private struct State {
        var summary = Snapshot.Summary()
        var warnings: [String] = []
        var directories = DirectoryCounts()
    }

    private let state = Mutex(State())
    /// Passes a message to the user without counting it as a warning.
    let report: @Sendable (String) -> Void
    /// Passes a warning about one entry to the user, with the entry's path.
    private let reportItem: @Sendable (BackupWarning) -> Void
    private let progress: BackupProgress?

    init(report: @escaping @Sendable (String) -> Void, reportItem: (@Sendable (BackupWarning) -> Void)? = nil,
         progress: BackupProgress? = nil) {
        self.report = report
        self.reportItem = reportItem ?? { report($0.description) }
        self.progress = progress
    }

    /// Records a warning about `path` and passes it on to the user.
    func warn(_ path: [UInt8], _ message: String) {
        let warning = BackupWarning(path: path, message: message)
        state.withLock { $0.warnings.append(warning.description) }
        progress?.error()
        reportItem(warning)
    }

    /// Passes a remark about `path` to the user as `warn` does, without counting it as a
    /// warning: the entry was stored, so the snapshot is complete and the exit status stays 0.
    func remark(_ path: [UInt8], _ message: String) {
        reportItem(BackupWarning(path: path, message: message))
    }

    func countDirectory(_ action: BackupProgress.Action) {
        state.withLock { s in
            switch action {
            case .new: s.directories.new += 1
            case .modified: s.directories.changed += 1
            case .unchanged: s.directories.unchanged += 1
            }
        }
    }

    var directories: DirectoryCounts { state.withLock { $0.directories } }

    func count(_ update: (inout Snapshot.Summary) -> Void) {
        state.withLock { update(&$0.summary) }
    }

    var summary: Snapshot.Summary { state.withLock { $0.summary } }
    var warnings: [String] { state.withLock { $0.warnings } }

    /// The snapshot's summary once everything is stored: the counts, what the blob saver
    /// wrote, the warnings and the time since `start` (`Clock.now()`).
    func finalSummary(stored: BlobSaver.Statistics, since start: Double) -> Snapshot.Summary {
        var summary = self.summary
        summary.bytesAdded = UInt64(stored.rawBytes)
        summary.bytesStored = UInt64(stored.storedBytes)
        summary.blobsAdded = stored.blobs
        summary.dataBlobsAdded = stored.dataBlobs
        summary.warnings = warnings.count
        summary.durationSeconds = Clock.now() - start
        return summary
    }
}

/// Folders below the backed-up paths, compared with the parent snapshot (restic's
/// `dirs_new`, `dirs_changed`, `dirs_unmodified`); not stored in the snapshot.
public struct DirectoryCounts: Sendable, Equatable {
    public var new = 0
    public var changed = 0
    public var unchanged = 0
}

/// An entry that could not be backed up, and why.
public struct BackupWarning: Sendable, CustomStringConvertible {
    public let path: [UInt8]
    public let message: String
    public var description: String { "\(PathBytes.display(path)): \(message)" }
}

/// What the backup's worker threads share: where blobs go and what is recorded.
struct BackupContext: Sendable {
    let repository: Repository
    let saver: BlobSaver
    let uploads: BlobUploadQueue
    let progress: BackupProgress
    let record: BackupRecord

    /// Stores a blob unless the repository has it or another thread is storing it.
    /// `inline` compresses and packs on this thread; otherwise the upload queue does.
    /// - Returns: whether this call stores it (the blob is new), for the bytes a file added.
    @discardableResult
    func store(_ type: BlobType, id: BlobID, plaintext: UnsafeRawBufferPointer, inline: Bool) throws -> Bool {
        guard saver.reserve(id) else { return false }
        if inline {
            try saver.save(type, id: id, plaintext: plaintext)
        } else {
            try uploads.submit(type, id: id, plaintext: Array(plaintext))
        }
        return true
    }

    /// Stores a blob already held in an array (an encoded tree) through the upload queue,
    /// without copying it.
    func store(_ type: BlobType, id: BlobID, bytes: [UInt8]) throws {
        guard saver.reserve(id) else { return }
        try uploads.submit(type, id: id, plaintext: bytes)
    }
}
