import SnapCore
import SnapRepository
import Synchronization

/// What a running backup has counted and warned about, shared by the walking thread, the
/// file readers and the tree writer.
final class BackupRecord: Sendable {
    private struct State {
        var summary = Snapshot.Summary()
        var warnings: [String] = []
    }

    private let state = Mutex(State())
    /// Passes a message to the user without counting it as a warning.
    let report: @Sendable (String) -> Void

    init(report: @escaping @Sendable (String) -> Void) { self.report = report }

    /// Records a warning about `path` and passes it on to the user.
    func warn(_ path: [UInt8], _ message: String) {
        let text = "\(PathBytes.display(path)): \(message)"
        state.withLock { $0.warnings.append(text) }
        report(text)
    }

    func count(_ update: (inout Snapshot.Summary) -> Void) {
        state.withLock { update(&$0.summary) }
    }

    var summary: Snapshot.Summary { state.withLock { $0.summary } }
    var warnings: [String] { state.withLock { $0.warnings } }
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
    func store(_ type: BlobType, id: BlobID, plaintext: UnsafeRawBufferPointer, inline: Bool) throws {
        guard saver.reserve(id) else { return }
        if inline {
            try saver.save(type, id: id, plaintext: plaintext)
        } else {
            try uploads.submit(type, id: id, plaintext: Array(plaintext))
        }
    }

    /// Stores a blob already held in an array (an encoded tree) through the upload queue,
    /// without copying it.
    func store(_ type: BlobType, id: BlobID, bytes: [UInt8]) throws {
        guard saver.reserve(id) else { return }
        try uploads.submit(type, id: id, plaintext: bytes)
    }
}
