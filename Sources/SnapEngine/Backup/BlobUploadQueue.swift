import SnapCore
import SnapRepository
import Synchronization

/// Hands blobs (the chunks of large files) to worker threads that compress, encrypt and
/// pack them, so that one large file keeps every core busy. At most `threads + capacity`
/// blobs are in flight, so memory stays bounded whatever the tree's size.
final class BlobUploadQueue: Sendable {
    private let saver: BlobSaver
    private let pool: WorkerPool<Void>
    private let failure = Mutex<(any Error)?>(nil)

    init(saver: BlobSaver, threads: Int, capacity: Int) {
        self.saver = saver
        pool = WorkerPool(threads: threads, capacity: capacity, label: "snap.upload") { () }
    }

    deinit { pool.release() }

    /// Queues a blob; blocks while the queue is full. Throws the first failure of an earlier blob.
    func submit(_ type: BlobType, id: BlobID, plaintext: [UInt8]) throws {
        try rethrowFailure()
        pool.submit { [self] _ in
            do {
                try saver.save(type, id: id, plaintext: plaintext)
            } catch {
                failure.withLock { if $0 == nil { $0 = error } }
            }
        }
    }

    /// Waits for every queued blob, then throws the first failure, if any. Nothing may be
    /// submitted afterwards.
    func drain() throws {
        pool.close()
        try rethrowFailure()
    }

    /// Waits for the blobs already queued, whatever became of them: for a command that stops
    /// with an error, so that no worker still compresses or encrypts while the process exits
    /// (exit tears down what the workers use). Harmless after `drain`.
    func stop() { pool.close() }

    private func rethrowFailure() throws {
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
