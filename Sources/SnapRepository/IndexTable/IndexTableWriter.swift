import Glibc
import SnapCore

/// Writes an index table file (`IndexTableFormat`) from records given in ascending ID order.
///
/// The table is written to a temporary file in the same folder, synced, and renamed over
/// `path`, then the folder is synced: a reader sees the old table or the new one, never
/// part of one. A writer that is dropped without `finish` removes its temporary file.
/// Not thread-safe.
final class IndexTableWriter {
    typealias Record = BlobIndex.Record

    /// One pack row as the table stores it.
    struct Pack {
        var id: PackID
        var salt: [UInt8]
        var size: Int
    }

    let path: String
    private let temporary: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var count = 0
    private var directory = [UInt32](repeating: 0, count: IndexTableFormat.bucketCount + 1)
    private var sums = [UInt64](repeating: TableChecksum().value, count: IndexTableFormat.bucketCount)
    private var bucket = 0
    private var bucketSum = TableChecksum()
    private var previous: RawID?
    private var recordsPerPack: [UInt32] = []
    /// The IDs of the bucket being written, and the filters of the buckets before it.
    private var bucketIDs: [RawID] = []
    private var filter: [UInt64] = []
    private var finished = false

    /// Creates the temporary file next to `path`.
    init(path: String) throws(IndexTableError) {
        self.path = path
        temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system(call: "open", path: temporary, errno: errno) }
        buffer.reserveCapacity(1 << 20)
        // Room for the header and directory, written last.
        guard lseek(fd, off_t(IndexTableFormat.recordsOffset), SEEK_SET) >= 0 else {
            throw .system(call: "lseek", path: temporary, errno: errno)
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !finished { unlink(temporary) }
    }

    /// Appends a record; IDs must strictly increase and the pack number fit `packs` at `finish`.
    func append(_ record: Record) throws(IndexTableError) {
        if let previous { precondition(previous < record.id, "records out of order") }
        previous = record.id
        let b = IndexTableFormat.bucket(of: record.id)
        while bucket < b { closeBucket() }
        withUnsafeBytes(of: record) { bytes in
            bucketSum.add(bytes)
            buffer.append(contentsOf: bytes)
        }
        bucketIDs.append(record.id)
        let pack = Int(record.packNumber)
        if pack >= recordsPerPack.count { recordsPerPack += [UInt32](repeating: 0, count: pack + 1 - recordsPerPack.count) }
        recordsPerPack[pack] += 1
        count += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// The records appended so far.
    var recordCount: Int { count }

    private func closeBucket() {
        addBucketFilter()
        sums[bucket] = bucketSum.value
        bucketSum = TableChecksum()
        bucket += 1
        directory[bucket] = UInt32(count)
    }

    /// Appends the current bucket's filter (`IndexTableFormat.filterBits`).
    private func addBucketFilter() {
        let words = IndexTableFormat.filterWords(records: bucketIDs.count)
        let start = filter.count
        filter += repeatElement(0, count: words)
        for id in bucketIDs {
            IndexTableFormat.filterBits(of: id, words: words) { bit in filter[start + bit / 64] |= UInt64(1) << UInt64(bit % 64); return true }
        }
        bucketIDs.removeAll(keepingCapacity: true)
    }

    private func flush() throws(IndexTableError) {
        try writeAll(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: [UInt8], at offset: Int? = nil) throws(IndexTableError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { all in
                offset.map { pwrite(fd, all.baseAddress! + done, all.count - done, off_t($0 + done)) }  // non-empty: done < count
                    ?? write(fd, all.baseAddress! + done, all.count - done)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .system(call: "write", path: temporary, errno: n < 0 ? errno : ENOSPC) }
            done += n
        }
    }

    /// Writes the sections after the records and the header, syncs and renames the file into place.
    ///
    /// - Parameters:
    ///   - packs: every pack a record names, by number.
    ///   - files: every index file read to gather the records (live or superseded).
    ///   - edges: (file, file it supersedes) for every index file read.
    func finish(packs: [Pack], files: [IndexID], edges: [(IndexID, IndexID)]) throws(IndexTableError) {
        precondition(recordsPerPack.count <= packs.count, "a record names a pack that is not listed")
        while bucket < IndexTableFormat.bucketCount - 1 { closeBucket() }
        addBucketFilter()
        sums[bucket] = bucketSum.value
        directory[IndexTableFormat.bucketCount] = UInt32(count)
        try flush()

        let files = Array(Set(files)).sorted()
        let offsets = IndexTableFormat.Offsets(records: count, packs: packs.count, files: files.count, edges: edges.count,
                                               filterWords: filter.count)
        var tail: [UInt8] = []
        tail.reserveCapacity(offsets.end - offsets.packs)
        for (n, pack) in packs.enumerated() {
            precondition(pack.salt.count == PackFormat.saltLength && pack.size <= Int(UInt32.max), "pack row out of range")
            Self.put(pack.id.raw, into: &tail)
            tail += pack.salt
            Self.put(UInt32(pack.size), into: &tail)
            Self.put(n < recordsPerPack.count ? recordsPerPack[n] : 0, into: &tail)
        }
        for n in packs.indices.sorted(by: { packs[$0].id < packs[$1].id }) { Self.put(UInt32(n), into: &tail) }
        while tail.count < offsets.files - offsets.packs { tail.append(0) }
        for file in files { Self.put(file.raw, into: &tail) }
        for (file, superseded) in edges { Self.put(file.raw, into: &tail); Self.put(superseded.raw, into: &tail) }
        filter.withUnsafeBytes { tail.append(contentsOf: $0) }
        filter = []
        try writeAll(tail)

        var front: [UInt8] = []
        front.reserveCapacity(IndexTableFormat.recordsOffset)
        for field in [IndexTableFormat.magic] { Self.put(field, into: &front) }
        Self.put(IndexTableFormat.version, into: &front)
        Self.put(UInt32(IndexTableFormat.recordSize), into: &front)
        for field in [count, packs.count, files.count, edges.count, offsets.end] { Self.put(UInt64(field), into: &front) }
        let headerEnd = front.count  // == checkedHeaderBytes
        while front.count < IndexTableFormat.directoryOffset { front.append(0) }
        for start in directory { Self.put(start, into: &front) }
        while front.count < IndexTableFormat.sumsOffset { front.append(0) }
        for sum in sums { Self.put(sum, into: &front) }
        while front.count < IndexTableFormat.recordsOffset { front.append(0) }
        var sum = TableChecksum()
        front.withUnsafeBytes { all in
            sum.add(UnsafeRawBufferPointer(rebasing: all[0..<headerEnd]))
            sum.add(UnsafeRawBufferPointer(rebasing: all[IndexTableFormat.directoryOffset...]))
        }
        sum.add(tail)
        front.withUnsafeMutableBytes { $0.storeBytes(of: sum.value, toByteOffset: IndexTableFormat.checkedHeaderBytes, as: UInt64.self) }
        try writeAll(front, at: 0)

        guard fsync(fd) == 0 else { throw .system(call: "fsync", path: temporary, errno: errno) }
        close(fd)
        fd = -1
        guard rename(temporary, path) == 0 else { throw .system(call: "rename", path: path, errno: errno) }
        finished = true
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        let dirFD = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    private static func put<T: BitwiseCopyable>(_ value: T, into bytes: inout [UInt8]) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }
}
