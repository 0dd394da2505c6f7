import Foundation
import SnapCore

/// Builds an index table file from index files read one at a time, in bounded memory.
///
/// An external sort: records are gathered into runs of at most `runLimit` records; a full
/// run is sorted and written to a run file in the table's folder; `finish` merges the runs
/// (the last one stays in memory) into the table, dropping the records of superseded index
/// files and keeping one record per blob ID. Peak memory is one run (48 bytes a record),
/// a read buffer per run file, and the pack rows. Not thread-safe.
final class IndexTableBuilder {
    typealias Record = BlobIndex.Record

    private let folder: String
    private let runLimit: Int
    private var run = RecordTable<Record>()
    private var runPaths: [String] = []
    /// Every pack row as an index file gave it; records name these by position until `finish`.
    private var occurrences: [IndexTableWriter.Pack] = []
    private var occurrenceFile: [IndexID] = []
    private(set) var files: [IndexID] = []
    private(set) var edges: [(IndexID, IndexID)] = []
    private(set) var entryCount = 0

    /// - Parameters:
    ///   - folder: where run files are written (the table's folder).
    ///   - runLimit: the most records held in memory at once.
    init(folder: String, runLimit: Int = 1 << 20) {
        self.folder = folder
        self.runLimit = max(1, runLimit)
    }

    deinit { for path in runPaths { unlink(path) } }

    /// Removes run and temporary files that a killed command left in `folder` more than a day ago
    /// (younger ones may belong to a command building a table right now).
    static func removeLeftovers(in folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        let limit = Date().addingTimeInterval(-86_400)
        for name in names where name.hasPrefix("run-") || name.hasPrefix("table.tmp-") {
            let path = "\(folder)/\(name)"
            if let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
               modified < limit {
                unlink(path)
            }
        }
    }

    /// Adds the records of one index file.
    func add(_ file: IndexFile, id: IndexID) throws {
        files.append(id)
        for superseded in file.supersedes { edges.append((id, superseded)) }
        for pack in file.packs {
            let occurrence = UInt32(occurrences.count)
            occurrences.append(.init(id: pack.id, salt: pack.salt, size: pack.size))
            occurrenceFile.append(id)
            for e in pack.entries {
                run.append(BlobIndex.record(e, pack: occurrence))
                if run.count >= runLimit { try spill() }
            }
            entryCount += pack.entries.count
        }
    }

    /// Sorts the current run and writes it to a run file.
    private func spill() throws {
        sortRun()
        let path = "\(folder)/run-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IndexTableError.system(call: "open", path: path, errno: errno) }
        runPaths.append(path)
        defer { close(fd) }
        try run.withRecords { records in
            let bytes = UnsafeRawBufferPointer(records)
            var done = 0
            while done < bytes.count {
                // `bytes` is non-empty here (done < count), so it has a base address.
                let n = write(fd, bytes.baseAddress.unsafelyUnwrapped + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw IndexTableError.system(call: "write", path: path, errno: n < 0 ? errno : ENOSPC) }
                done += n
            }
        }
        run.removeAll()
    }

    /// Sorts by ID; equal IDs keep their order (earlier index files first).
    private func sortRun() {
        run.sortAndDeduplicate(by: { $0.id < $1.id || ($0.id == $1.id && $0.packNumber < $1.packNumber) },
                               dropping: { _, _ in false })
    }

    /// Merges everything into a table at `path`, holding the records of the live index files.
    ///
    /// - Parameter live: the index files no read file supersedes.
    func finish(path: String, live: Set<IndexID>) throws {
        sortRun()
        // Final pack numbers: one per distinct pack of a live file; records of other files are dropped.
        let dropped = UInt32.max
        var final = [UInt32](repeating: dropped, count: occurrences.count)
        var packs: [IndexTableWriter.Pack] = []
        var numbers: [PackID: UInt32] = [:]
        for (n, pack) in occurrences.enumerated() where live.contains(occurrenceFile[n]) {
            if let known = numbers[pack.id] { final[n] = known; continue }
            final[n] = UInt32(packs.count)
            numbers[pack.id] = UInt32(packs.count)
            packs.append(pack)
        }
        occurrences = []
        numbers = [:]
        var sources = try runPaths.map { try RunReader(path: $0) }
        var memoryNext = 0
        let writer = try IndexTableWriter(path: path)
        var last: RawID?
        try run.withRecords { memory in
            // A small heap over the sources' current records, ordered by (ID, source): the
            // in-memory run is source `sources.count`, the newest, so it loses ties.
            var heads: [(record: Record, source: Int)] = []
            for (s, reader) in sources.enumerated() { if let r = try reader.next() { heads.append((r, s)) } }
            if memoryNext < memory.count { heads.append((memory[memoryNext], sources.count)); memoryNext += 1 }
            var heap = Heap(heads)
            while let (record, source) = heap.top {
                let next: Record?
                if source == sources.count {
                    next = memoryNext < memory.count ? memory[memoryNext] : nil
                    memoryNext += 1
                } else {
                    next = try sources[source].next()
                }
                heap.replaceTop(with: next.map { ($0, source) })
                let pack = final[Int(record.packNumber)]
                guard pack != dropped, record.id != last else { continue }
                last = record.id
                var kept = record
                kept.packAndType = pack | (record.packAndType & BlobIndex.treeFlag)
                try writer.append(kept)
            }
        }
        sources = []
        run.removeAll()
        try writer.finish(packs: packs, files: files, edges: edges)
    }

    /// Reads a run file in blocks of records.
    private final class RunReader {
        private let fd: Int32
        private let path: String
        private var buffer: [Record] = []
        private var position = 0

        init(path: String) throws {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw IndexTableError.system(call: "open", path: path, errno: errno) }
            self.path = path
        }

        deinit { close(fd) }

        func next() throws -> Record? {
            if position == buffer.count {
                try refill()
                if buffer.isEmpty { return nil }
            }
            defer { position += 1 }
            return buffer[position]
        }

        private func refill() throws {
            let capacity = 16_384
            var filled = 0
            buffer = try [Record](unsafeUninitializedCapacity: capacity) { records, count in
                let raw = UnsafeMutableRawBufferPointer(records)
                while filled < raw.count {
                    // `raw` holds `capacity` records, so it has a base address.
                    let n = read(fd, raw.baseAddress.unsafelyUnwrapped + filled, raw.count - filled)
                    if n < 0 && errno == EINTR { continue }
                    guard n >= 0 else { throw IndexTableError.system(call: "read", path: path, errno: errno) }
                    if n == 0 { break }
                    filled += n
                }
                guard filled % IndexTableFormat.recordSize == 0 else {
                    throw IndexTableError.malformed(path: path, reason: "run file ends inside a record")
                }
                count = filled / IndexTableFormat.recordSize
            }
            position = 0
        }
    }
}

/// A binary min-heap of merge heads ordered by (record ID, source).
private struct Heap {
    typealias Head = (record: BlobIndex.Record, source: Int)
    private var items: [Head]

    init(_ heads: [Head]) {
        items = heads
        for i in stride(from: items.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    var top: Head? { items.first }

    /// Replaces the smallest head with `head` (or removes it, for `nil`) and restores the order.
    mutating func replaceTop(with head: Head?) {
        guard !items.isEmpty else { return }
        if let head { items[0] = head } else {
            items[0] = items[items.count - 1]
            items.removeLast()
        }
        if !items.isEmpty { siftDown(0) }
    }

    private func less(_ a: Head, _ b: Head) -> Bool {
        a.record.id < b.record.id || (a.record.id == b.record.id && a.source < b.source)
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let left = 2 * i + 1, right = left + 1
            var smallest = i
            if left < items.count && less(items[left], items[smallest]) { smallest = left }
            if right < items.count && less(items[right], items[smallest]) { smallest = right }
            if smallest == i { return }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}
