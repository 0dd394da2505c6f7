#if canImport(Glibc)
import Glibc
#endif
import SnapCore
import SnapRepository
import Synchronization

/// Comparing a file in the target with the snapshot's content, blob by blob: for
/// `OverwriteMode.ifChanged` and for `RestoreOptions.verify`.
extension Restorer {
    /// Compares the file at `path` with `node`'s content on the planning thread; `nil`
    /// when they are the same, else what differs.
    func compareContent(path: [UInt8], node: Node) -> String? {
        Self.compareContent(path: path, node: node, repository: repository, hasher: BlobIDHasher(keys: repository.keys))
    }

    /// Compares the regular file at `path` (not following a symlink) with `node`'s
    /// content: its size, then each of the snapshot's blobs against the same byte range of
    /// the file, hashed with the repository's keyed blob-ID function. Returns `nil` when
    /// they are the same, else a reason naming the first difference. A blob whose length
    /// the index does not know counts as a difference.
    static func compareContent(path: [UInt8], node: Node, repository: Repository, hasher: BlobIDHasher) -> String? {
        let fd = PathBytes.withCString(path) { open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { return "cannot be opened: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return "cannot be read: \(String(cString: strerror(errno)))" }
        guard st.st_mode & S_IFMT == S_IFREG else { return "is not a regular file" }
        guard UInt64(st.st_size) == node.size else { return "has \(st.st_size) bytes, the snapshot \(node.size)" }
        var buffer: [UInt8] = []
        var offset: UInt64 = 0
        for id in node.content {
            guard let length = repository.index.lookup(id)?.entry.rawLength else {
                return "cannot be compared at offset \(offset): blob \(id.short) is not in any index"
            }
            let count = Int(length)
            if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }
            let read = buffer.withUnsafeMutableBytes { raw -> Int in
                var done = 0
                while done < count {
                    let n = pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))  // non-empty buffer
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return n < 0 ? -1 : done }
                    done += n
                }
                return done
            }
            guard read == count else {
                return read < 0 ? "cannot be read: \(String(cString: strerror(errno)))" : "ends early at offset \(offset + UInt64(read))"
            }
            let same = buffer.withUnsafeBytes { hasher.id(of: UnsafeRawBufferPointer(rebasing: $0[..<count])) } == id
            if !same { return "differs from the snapshot at offset \(offset)" }
            offset += UInt64(count)
        }
        return offset == node.size ? nil : "has \(node.size) bytes but the snapshot's blobs hold \(offset)"
    }

    /// Reads back the files of this batch whose content was written, on `workers` threads,
    /// and records each that differs from the snapshot in `result.verifyFailures`.
    func verifyBatch(_ content: ContentOutcome) {
        options.beforeVerify?()
        let skip = content.unwritten.union(content.damaged)
        let files = plan.indices.filter { i in
            let e = plan[i]
            return e.created && e.linkTo == nil && e.action != .keep && !skip.contains(i)
                && (e.node.type == .file || e.node.type == .hardlink)
        }
        let entries = files.map { (plan[$0].target, plan[$0].snapshotPath, plan[$0].node) }
        let failures = Mutex<[String]>([])
        let repository = self.repository
        let stop = stopSignal
        let chunk = max(1, (entries.count + options.workers - 1) / options.workers)
        let groups = stride(from: 0, to: entries.count, by: chunk).map { $0..<min($0 + chunk, entries.count) }
        ParallelWork.forEach(groups.count, workers: options.workers) { g in
            let hasher = BlobIDHasher(keys: repository.keys)
            for (path, snapshotPath, node) in entries[groups[g]] where !stop.isRaised {
                guard let reason = Restorer.compareContent(path: path, node: node, repository: repository, hasher: hasher) else { continue }
                failures.withLock { $0.append("\(PathBytes.display(snapshotPath)): verify: \(reason)") }
            }
        }
        result.verified += entries.count
        for message in failures.withLock({ $0 }).sorted() {
            result.verifyFailures.append(message)
            warn(message)
        }
    }
}
