import Dispatch
import SnapCompression
import SnapCore
import SnapStorage

/// Decodes the data blobs of the files an import is about to read on worker threads,
/// ahead of it, while the importing thread still chunks the file before them: restic's
/// blob decoding (Poly1305 check, AES-CTR, zstd, the SHA-256 check) then no longer runs on
/// the one thread that also chunks and hashes for snap.
///
/// The importer names the content of the files it will read, in the order it will read
/// them (`plan`); this reader reads their sealed bytes through the `ResticBlobReader`'s
/// windows on the importing thread (cheap copies, few storage reads), hands each blob to a
/// worker, and gives the plaintexts back strictly in planned order (`next`,
/// `contentReader`). At most `Limits.maxBlobs` blobs and about `Limits.maxBytes` bytes
/// are decoded or waiting at a time (always at least one blob), so memory stays bounded
/// whatever the files' sizes. Every blob is still authenticated and checked against its
/// SHA-256; one that fails in its window is read alone (a mirror may fail over), as
/// `ResticBlobReader.loadBlob` does. An error (a damaged or missing blob, a failed
/// storage read) is thrown when the importer reaches that blob, not earlier.
///
/// Not thread-safe: used from the importing thread only, which owns `reader` meanwhile.
public final class ResticReadAhead {
    /// How much is decoded ahead.
    public struct Limits: Sendable {
        /// Worker threads that decode.
        public var threads: Int
        /// Blobs decoded or waiting to be taken, at most.
        public var maxBlobs: Int
        /// Sealed plus plaintext bytes of those blobs, at most (one larger blob still goes).
        public var maxBytes: Int

        public init(threads: Int, maxBlobs: Int? = nil, maxBytes: Int = 32 << 20) {
            self.threads = max(1, threads)
            self.maxBlobs = max(1, maxBlobs ?? 8 * max(1, threads))
            self.maxBytes = max(1, maxBytes)
        }
    }

    /// One decoding thread with its own zstd context, used only on its serial queue.
    private final class Worker: @unchecked Sendable {
        let queue: DispatchQueue
        let decompressor: ZstdDecompressor?

        init(label: String) {
            queue = DispatchQueue(label: label)
            decompressor = try? ZstdDecompressor()
        }
    }

    /// A blob handed to a worker (or failed before it could be).
    private struct Slot {
        let id: ResticBlobID
        let bytes: Int
        let plaintext: Pending<[UInt8]>
    }

    private let reader: ResticBlobReader
    public let limits: Limits
    private let workers: [Worker]
    private var nextWorker = 0
    private var planned: [ResticBlobID] = []
    private var plannedHead = 0
    private var inFlight: [Slot] = []
    private var inFlightBytes = 0

    /// - Parameter reader: reads the sealed bytes (and trees, between calls here) on the
    ///   importing thread.
    public init(reader: ResticBlobReader, limits: Limits) {
        self.reader = reader
        self.limits = limits
        workers = (0..<limits.threads).map { Worker(label: "snap.restic-read-ahead.\($0)") }
    }

    deinit { close() }

    /// Blobs planned and not yet taken by `next` (decoding, decoded, or not started).
    public var pending: Int { planned.count - plannedHead + inFlight.count }

    /// Appends a file's content (its data blobs in order) to what will be read, after the
    /// files planned before it. Every planned blob must be taken by `next`, in order.
    public func plan(_ content: [ResticBlobID]) {
        planned.append(contentsOf: content)
    }

    /// Starts decoding planned blobs until the limits are reached.
    public func fill() {
        while plannedHead < planned.count,
              inFlight.isEmpty || (inFlight.count < limits.maxBlobs && inFlightBytes < limits.maxBytes) {
            submit(planned[plannedHead])
            plannedHead += 1
        }
        // Drop what was taken once it is most of the list (keeps the list short).
        if plannedHead > 1024, plannedHead * 2 > planned.count {
            planned.removeFirst(plannedHead)
            plannedHead = 0
        }
    }

    /// The plaintext of the next planned blob, which must be `expected`.
    ///
    /// - Throws: `ResticError` for a blob that is missing from the index, damaged in every
    ///   copy, or could not be read.
    public func next(_ expected: ResticBlobID) throws -> [UInt8] {
        if inFlight.isEmpty { fill() }
        precondition(!inFlight.isEmpty && inFlight[0].id == expected,
                     "ResticReadAhead: blobs must be taken in the order they were planned")
        let slot = inFlight.removeFirst()
        inFlightBytes -= slot.bytes
        fill()  // keep the workers busy while this one is waited for
        return try slot.plaintext.wait()
    }

    /// A reader of a file's content whose blobs come from this read-ahead: the file's
    /// content must be the next planned.
    public func contentReader(_ content: [ResticBlobID]) -> ResticContentReader {
        ResticContentReader(content: content) { [unowned self] id in try self.next(id) }
    }

    /// Forgets what is planned and waits for the workers to finish the blobs they hold
    /// (after an error, before the importer goes on without this read-ahead).
    public func close() {
        for slot in inFlight { _ = try? slot.plaintext.wait() }
        inFlight = []
        inFlightBytes = 0
        planned = []
        plannedHead = 0
    }

    /// Reads the sealed bytes of blob `id` and hands them to the next worker.
    private func submit(_ id: ResticBlobID) {
        let plaintext = Pending<[UInt8]>()
        let repository = reader.repository
        let location: ResticBlobLocation
        let sealed: [UInt8]?
        do {
            location = try reader.location(of: id, type: .data)
            sealed = try reader.sealedFromWindow(location, file: FileName(.data, location.pack.hex).description)?.sealed
        } catch {
            // Thrown when the importer reaches this blob, in order.
            plaintext.fulfil(.failure(error))
            inFlight.append(Slot(id: id, bytes: 0, plaintext: plaintext))
            return
        }
        let bytes = location.length + location.plaintextLength
        inFlight.append(Slot(id: id, bytes: bytes, plaintext: plaintext))
        inFlightBytes += bytes
        let worker = workers[nextWorker]
        nextWorker = (nextWorker + 1) % workers.count
        worker.queue.async {
            if let sealed, let decoded = try? ResticRepository.decodeBlob(
                sealed, id: id, location: location, key: repository.key,
                file: FileName(.data, location.pack.hex).description, decompressor: worker.decompressor) {
                plaintext.fulfil(.success(decoded))
                return
            }
            // Not in a window, or damaged there: read alone, which lets a mirror fail over.
            plaintext.fulfil(Result { try repository.loadBlob(id, type: .data) })
        }
    }
}
