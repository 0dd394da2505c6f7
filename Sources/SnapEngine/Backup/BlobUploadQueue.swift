import Dispatch
import SnapCore
import SnapRepository
import Synchronization

/// Hands blobs to worker threads that compress, encrypt and pack them, with at most
/// `limit` blobs in flight so that memory stays bounded whatever the tree's size.
final class BlobUploadQueue: Sendable {
    private let saver: BlobSaver
    private let slots: DispatchSemaphore
    private let group = DispatchGroup()
    private let queue = DispatchQueue(label: "snap.upload", attributes: .concurrent)
    private let failure = Mutex<(any Error)?>(nil)

    init(saver: BlobSaver, limit: Int) {
        self.saver = saver
        slots = DispatchSemaphore(value: max(1, limit))
    }

    /// Queues a blob; blocks while `limit` blobs are in flight. Throws the first failure of an earlier blob.
    func submit(_ type: BlobType, id: BlobID, plaintext: [UInt8]) throws {
        try rethrowFailure()
        slots.wait()
        group.enter()
        queue.async { [self] in
            defer { slots.signal(); group.leave() }
            do {
                try saver.save(type, id: id, plaintext: plaintext)
            } catch {
                failure.withLock { if $0 == nil { $0 = error } }
            }
        }
    }

    /// Waits for every queued blob, then throws the first failure, if any.
    func drain() throws {
        group.wait()
        try rethrowFailure()
    }

    private func rethrowFailure() throws {
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
