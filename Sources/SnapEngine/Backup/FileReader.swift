#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import SnapCore
import SnapRepository

/// Reads, chunks and hashes the files a backup must store, on several threads, while the
/// archiver walks on; new chunks go to the upload queue.
///
/// Only files whose content has to be read come here: unchanged files and other entries
/// are settled by the archiver itself.
final class FileReader: Sendable {
    private let context: BackupContext
    private let pool: WorkerPool<Worker>
    /// Held while a file larger than `ChunkReader.residentBytes` is read by one thread: each
    /// such file holds a maximum chunk of buffer. Two at once keep both cores busy where
    /// chunking and hashing cost more than compressing (very compressible files; one at a
    /// time made `drivers/gpu` of the kernel tree 15 % slower to back up); small files go on
    /// beside them. On more cores, a quarter of the readers (4 of 17 on 16 cores): chunking
    /// and hashing are about a third of a file's CPU time, so two threads would bound a tree
    /// whose bytes are mostly in files of 1 to 32 MiB (shared libraries, a Python
    /// environment's) to two cores' chunking. Files above `segmentation.threshold` do not
    /// take it: they are read by `segments`, whose threads and buffers bound them.
    private let largeFile: DispatchSemaphore
    /// Reads files above `segmentation.threshold` on several threads.
    private let segments: SegmentedFileReader
    private let segmentation: FileSegmentation
    /// How many of a batch's files one thread opens ahead (`Prefetch`): the batch's length,
    /// unless the descriptor limit is too low for every thread to hold that many.
    private let prefetchFiles: Int

    /// What each reading thread keeps for itself.
    struct Worker {
        let reader: ChunkReader
        let ids: BlobIDHasher
    }

    init(context: BackupContext, threads: Int, segmentation: FileSegmentation = FileSegmentation(), prefetch: Bool = true) {
        self.context = context
        self.segmentation = segmentation
        segments = SegmentedFileReader(context: context, segmentation: segmentation)
        prefetchFiles = prefetch ? Prefetch.depth(threads: threads) : 0
        largeFile = DispatchSemaphore(value: max(2, threads / 4))
        let (chunker, keys) = (context.repository.chunker, context.repository.keys)
        // A few files queued per thread keep the readers busy while the archiver stats the next ones.
        pool = WorkerPool(threads: threads, capacity: threads * 4, label: "snap.read") {
            Worker(reader: ChunkReader(chunker: chunker), ids: BlobIDHasher(keys: keys))
        }
    }

    /// A file to read: where it is, its node so far, whether the parent snapshot had it,
    /// and, for a multiply-linked file, where its further names wait for its content.
    struct File: Sendable {
        let path: [UInt8]
        let node: Node
        let isChange: Bool
        var linked: Pending<LinkedContent?>? = nil
        /// The parent snapshot's content of a file read again only because its times fell in
        /// the parent's read window (`Archiver.racy`): read as that, it counts as unchanged.
        var unchangedIf: [BlobID]? = nil
    }

    /// Queues files to be read one after the other by one thread (a batch of small files
    /// costs one hand-over, not one each) and fulfils `nodes` with their nodes in order;
    /// a node is `nil` when its file could not be read (with a warning). Fails only on
    /// repository or storage errors.
    ///
    /// The thread first opens the batch's small files and asks the kernel for all their
    /// data at once (`FileReader.Prefetch`), so that from a cold cache the disk sees a
    /// batch of requests per reader instead of one; the files are then read in order.
    func submit(_ files: [File], fulfilling nodes: Pending<[Node?]>) {
        pool.submit { [self] worker in
            var read: [Node?] = []
            var ahead = Prefetch(files, limit: prefetchFiles)
            defer { ahead.closeAll() }
            do {
                for (i, file) in files.enumerated() {
                    let node = try self.read(file, opened: ahead.take(i), with: worker)
                    file.linked?.fulfil(.success(node.map { LinkedContent(content: $0.content, size: $0.size) }))
                    read.append(node)
                }
                nodes.fulfil(.success(read))
            } catch {
                // Nobody may wait forever: the rest of the batch fails with the same error.
                for file in files.dropFirst(read.count) { file.linked?.fulfil(.failure(error)) }
                nodes.fulfil(.failure(error))
            }
        }
    }

    /// Reads one file and waits for it.
    func read(_ file: File) throws -> Node? {
        let nodes = Pending<[Node?]>()
        submit([file], fulfilling: nodes)
        return try nodes.wait()[0]
    }

    /// Waits for every queued file.
    func close() {
        pool.close()
        segments.close()
    }

    /// Reads one file from `opened`, and closes it.
    private func read(_ file: File, opened: Result<Int32, FileSystem.Failure>, with worker: Worker) throws -> Node? {
        let path = file.path
        var node = file.node
        context.progress.setCurrent(path)
        let fd: Int32
        switch opened {
        case .success(let open): fd = open
        case .failure(let failure):
            context.record.warn(path, failure.code == ENOENT ? "vanished before it could be read" : "cannot open: \(failure)")
            return nil
        }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            context.record.warn(path, "cannot stat: \(String(cString: strerror(errno)))")
            return nil
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            context.record.warn(path, "was replaced by something that is not a regular file while being read")
            return nil
        }
        // Opened by its path, listed through its folder: the same file? (`ListedEntry`)
        guard ListedEntry(node).isOpened(st, renumbers: !FileSystem.keepsInodeNumbers(fd)) else {
            context.record.warn(path, "was replaced by another file after it was listed (renamed over, or a folder above it "
                                + "swapped for a symlink); left out, the next backup reads it")
            return nil
        }
        let chunks: FileChunks
        do {
            chunks = st.st_size > segmentation.threshold
                ? try segments.read(fd, size: Int(st.st_size))
                : try readWhole(fd, size: Int(st.st_size), with: worker)
        } catch let failure as FileSystem.Failure {
            context.record.warn(path, "cannot read: \(failure)")
            return nil
        }
        // A file that changed while it was read is recorded as it was read, which may mix
        // old and new bytes (a database written to, a log appended to). Its metadata is the
        // walk's, from before the change, so the next backup sees it changed and reads it again.
        // A small file read whole at its size is not asked again: one system call fewer per
        // file where most files are small, and its window was one `read`.
        var after = stat()
        let total = chunks.bytes
        if st.st_size >= context.repository.config.chunker.minSize || total != UInt64(st.st_size), fstat(fd, &after) == 0,
           after.st_size != st.st_size || after.st_mtim.tv_sec != st.st_mtim.tv_sec || after.st_mtim.tv_nsec != st.st_mtim.tv_nsec {
            context.record.remark(path, "changed while it was read; stored as read, and read again by the next backup")
        }
        node.size = total
        node.content = chunks.content
        let unchanged = file.unchangedIf == chunks.content
        context.record.count {
            $0.bytesRead += total
            $0.bytesProcessed += total
            if unchanged { $0.filesUnchanged += 1 } else if file.isChange { $0.filesChanged += 1 } else { $0.filesNew += 1 }
        }
        context.progress.fileDone(bytes: 0)
        context.progress.item(path, action: unchanged ? .unchanged : file.isChange ? .modified : .new, size: total, added: chunks.added)
        return node
    }

    /// Reads a file on this thread, one chunk after the other.
    ///
    /// - Throws: `FileSystem.Failure` when a read fails; repository and storage errors.
    private func readWhole(_ fd: Int32, size: Int, with worker: Worker) throws -> FileChunks {
        let large = size > ChunkReader.residentBytes
        if large { largeFile.wait() }
        defer { if large { largeFile.signal() } }
        var file = FileChunks()
        // A small file is one chunk: storing it here saves a hand-over to another thread,
        // and the readers keep the cores busy. A large file's chunks go to the upload
        // queue, so that one file is compressed on several cores.
        let inline = size < context.repository.config.chunker.minSize
        let bytes = try worker.reader.read(fd) { chunk in
            let id = worker.ids.id(of: chunk)
            file.content.append(id)
            if try context.store(.data, id: id, plaintext: chunk, inline: inline) { file.added += UInt64(chunk.count) }
            context.progress.bytesRead(UInt64(chunk.count))
        }
        file.bytes = bytes
        return file
    }
}

/// A file's content as read: its blobs, its bytes, and the bytes of the blobs it stored
/// first (new to the repository: restic's "added" in `backup -vv`).
/// Also one segment's chunks, in file order, which `append` joins (`SegmentedFileReader`).
struct FileChunks: Sendable {
    var content: [BlobID] = []
    var bytes: UInt64 = 0
    var added: UInt64 = 0

    /// The chunks of the next part of the file.
    mutating func append(_ next: FileChunks) {
        content += next.content
        bytes += next.bytes
        added += next.added
    }
}
