#if canImport(Glibc)
import Glibc
#endif
import SnapChunker
import SnapCore
import SnapRepository
import Synchronization

/// How a large file is read: in segments on several threads.
public struct FileSegmentation: Sendable {
    /// Files larger than this are read in segments; smaller ones by one thread.
    public var threshold: Int
    /// Bytes per segment. Each segment thread holds this plus a maximum chunk of buffer.
    public var segmentBytes: Int
    /// Threads that read segments (of every large file of the backup together).
    public var threads: Int

    /// Segments of 8 MiB for files over 32 MiB, on as many threads as workers, at most 8:
    /// at most 8 × 12 MiB of buffers with the default chunk sizes. Segment threads read,
    /// chunk and hash (about half the work per byte); compression and encryption run on
    /// the upload queue's workers, so 8 of them keep 16 cores busy.
    public init(threshold: Int = 32 << 20, segmentBytes: Int = 8 << 20, threads: Int = min(8, max(1, System.activeProcessorCount))) {
        self.threshold = threshold; self.segmentBytes = segmentBytes; self.threads = threads
    }
}

/// Reads, chunks, hashes and stores large files on several threads, one segment of a file
/// each, with exactly the chunks of one sequential pass (`SegmentedChunking` says why).
///
/// A segment job reads its segment, chunks it from its first byte as if a boundary were
/// there, then waits for the offset where the previous segment's true chunks end,
/// resynchronises, hands its own exit on to the next segment's job, and only then hashes
/// and stores its true chunks. Jobs run in file order on a first-in, first-out pool, so the
/// job a segment waits for is always already running, and the wait is short: a job hands
/// its exit on as soon as it has chunked, before the hashing and storing.
///
/// Memory: one buffer of a segment and a maximum chunk per running job, at most `threads`;
/// their pages are given back whenever no large file is being read. Chunks go to the upload
/// queue (in file order within a segment, segment by segment in parallel); the file's
/// content list is in file order.
final class SegmentedFileReader: Sendable {
    private let context: BackupContext
    private let chunker: Chunker
    private let segmentBytes: Int
    private let pool: WorkerPool<BlobIDHasher>
    private let buffers: SegmentBuffers

    init(context: BackupContext, segmentation: FileSegmentation) {
        self.context = context
        chunker = context.repository.chunker
        segmentBytes = max(1, segmentation.segmentBytes)
        buffers = SegmentBuffers(bytes: segmentBytes + chunker.parameters.maxSize)
        let keys = context.repository.keys
        pool = WorkerPool(threads: segmentation.threads, capacity: segmentation.threads, label: "snap.segment") {
            BlobIDHasher(keys: keys)
        }
    }

    deinit { pool.release() }

    /// Waits for every segment job, then lets the threads stop.
    func close() { pool.close() }

    /// Where the true chunks of a segment end: the next segment's entry, and whether the
    /// file ended there (it shrank while being read).
    private struct Exit: Sendable {
        let offset: Int
        let ended: Bool
    }

    /// Reads the open file `fd` of `size` bytes in segments and stores its chunks.
    ///
    /// - Returns: the file's chunk IDs in order, and the bytes read (less than `size` if
    ///   the file shrank while being read; growth after `size` is left out).
    /// - Throws: `FileSystem.Failure` when a read fails; repository and storage errors.
    ///   Returns or throws only once every segment job of the file is done with `fd`.
    func read(_ fd: Int32, size: Int) throws -> FileChunks {
        let count = (size + segmentBytes - 1) / segmentBytes
        let exits = (0...count).map { $0 == 0 ? Pending(Exit(offset: 0, ended: false)) : Pending<Exit>() }
        let results = (0..<count).map { _ in Pending<FileChunks>() }
        buffers.beginFile()
        defer { buffers.endFile() }
        for i in 0..<count {
            let start = i * segmentBytes
            let end = min(size, start + segmentBytes)
            pool.submit { [self] hasher in
                results[i].fulfil(Result {
                    try segment(fd, size: size, start: start, end: end, entry: exits[i], exit: exits[i + 1], hasher: hasher)
                })
            }
        }
        // Every job is waited for, even after a failure: none may read `fd` once it is closed.
        var file = FileChunks()
        var failure: (any Error)?
        for result in results {
            do {
                file.append(try result.wait())
            } catch {
                if failure == nil { failure = error }
            }
        }
        if let failure { throw failure }
        return file
    }

    /// One segment job: read, chunk, resynchronise, hand on the exit, then hash and store.
    private func segment(_ fd: Int32, size: Int, start: Int, end: Int, entry: Pending<Exit>, exit: Pending<Exit>,
                         hasher: BlobIDHasher) throws -> FileChunks {
        let buffer = buffers.take()
        defer { buffers.give(buffer) }
        // The next job waits for this one's exit: it comes, whatever happens here.
        let plan: Plan
        do {
            plan = try self.plan(fd, size: size, start: start, end: end, entry: entry, buffer: buffer)
        } catch {
            exit.fulfil(.failure(error))
            throw error
        }
        exit.fulfil(.success(plan.exit))
        var chunks = FileChunks()
        guard let window = plan.window else { return chunks }
        chunks.content.reserveCapacity(plan.boundaries.count - 1)
        for (from, to) in zip(plan.boundaries, plan.boundaries.dropFirst()) {
            let chunk = window.bytes(from, to)
            let id = hasher.id(of: chunk)
            if try context.store(.data, id: id, plaintext: chunk, inline: false) { chunks.added += UInt64(chunk.count) }
            context.progress.bytesRead(UInt64(chunk.count))
            chunks.content.append(id)
            chunks.bytes += UInt64(chunk.count)
        }
        return chunks
    }

    /// A segment's true chunks, read but not yet hashed.
    private struct Plan {
        /// The bytes; `nil` when the file ended before this segment.
        var window: SegmentWindow?
        /// The true boundaries from the entry to the exit (`SegmentedChunking.resynchronise`).
        var boundaries: [Int]
        var exit: Exit
    }

    /// Reads and chunks the segment on its own, then waits for the previous segment's exit
    /// and resynchronises.
    ///
    /// - Throws: `FileSystem.Failure` when a read fails; an earlier segment's failure.
    private func plan(_ fd: Int32, size: Int, start: Int, end: Int, entry: Pending<Exit>, buffer: SegmentBuffers.Buffer) throws -> Plan {
        // An earlier segment failed already: the file's backup is over, read nothing.
        if case .failure(let error)? = entry.outcome { throw error }
        let window = try SegmentWindow(fd: fd, size: size, start: start, end: end, chunker: chunker, buffer: buffer.memory)
        let segmentEnd = min(end, window.streamEnd)
        let guessed = try SegmentedChunking.chain(from: start, end: segmentEnd, next: window.next)
        let before = try entry.wait()
        if before.ended { return Plan(window: nil, boundaries: [before.offset], exit: before) }
        let boundaries = try SegmentedChunking.resynchronise(entry: before.offset, guessed: guessed, end: segmentEnd, next: window.next)
        let exit = Exit(offset: boundaries.last ?? before.offset, ended: window.streamEnd < size)  // never empty: it starts with the entry
        return Plan(window: window, boundaries: boundaries, exit: exit)
    }
}

/// The segment buffers of the running jobs, reused from job to job; their pages go back
/// to the kernel when the last large file being read is done (not between segments,
/// which would fault a whole segment's pages in again for every job).
private final class SegmentBuffers: Sendable {
    final class Buffer: @unchecked Sendable {
        let memory: UnsafeMutableRawBufferPointer
        init(bytes: Int) { memory = .allocate(byteCount: bytes, alignment: 64) }
        deinit { memory.deallocate() }
    }

    private struct State {
        var free: [Buffer] = []
        var files = 0
    }

    private let bytes: Int
    private let state = Mutex(State())

    init(bytes: Int) { self.bytes = bytes }

    /// A large file's segment jobs are about to be queued.
    func beginFile() { state.withLock { $0.files += 1 } }

    /// Every segment job of a large file is done: with no other file being read, every
    /// buffer is free, and their pages are given back.
    func endFile() {
        state.withLock { s in
            s.files -= 1
            if s.files == 0 { s.free.forEach(Self.release) }
        }
    }

    func take() -> Buffer { state.withLock { $0.free.popLast() } ?? Buffer(bytes: bytes) }

    func give(_ buffer: Buffer) { state.withLock { $0.free.append(buffer) } }

    /// Gives a buffer's whole pages back to the kernel; it reads as zeros when next touched.
    private static func release(_ buffer: Buffer) {
        guard let base = buffer.memory.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let from = (Int(bitPattern: base) + page - 1) / page * page
        let to = (Int(bitPattern: base) + buffer.memory.count) / page * page
        guard to > from, let start = UnsafeMutableRawPointer(bitPattern: from) else { return }
        madvise(start, to - from, MADV_DONTNEED)
    }
}
