import Glibc
import SnapCore
import Synchronization

/// A sorted table of blob records in a read-only, memory-mapped cache file
/// (`IndexTableFormat`), searched without loading it.
///
/// Opening checks the header, the section sizes against the file size, and a checksum of
/// everything but the records (directory, pack table, file lists): a truncated or garbled
/// file is rejected. The records are checked one bucket at a time, the first time a bucket
/// is searched: its checksum, order, bucket and pack numbers. When one fails, the file is
/// deleted so that the next command rebuilds it, every other bucket is checked, and the
/// damaged buckets' records are read again from the index files the table was built from
/// (`BucketSource`) and answered from memory: a damaged cache file never makes a blob look
/// missing. A damaged bucket that cannot be read again is treated as empty (its blobs look
/// unindexed, so a backup stores them again rather than trusting a damaged location).
///
/// Resident memory: the pages a command touches count in its resident size, although the
/// page cache keeps them. Once the buckets searched since the last time add up to
/// `residentBudget` bytes, the record pages are given back (`MADV_DONTNEED`); searching
/// them again faults them in from the page cache. Thread-safe.
final class MappedIndexTable: @unchecked Sendable {
    typealias Record = BlobIndex.Record

    let path: String
    let recordCount: Int
    let packCount: Int
    /// Every index file read to build the table, sorted (live or superseded).
    let files: [IndexID]
    /// (file, file it supersedes) for every index file read when the table was built.
    let edges: [(IndexID, IndexID)]

    /// Immutable after `init`: the mapping, read only through the bounds-checked accessors below.
    private let base: UnsafeRawPointer
    private let size: Int
    private let offsets: IndexTableFormat.Offsets
    private let inode: ino_t
    private let residentBudget: Int
    /// Open for `pread` searches, for the table's life.
    private let fd: Int32
    /// Whether searches read records with `pread` instead of through the mapping: for tables
    /// whose records exceed the resident budget, where mapped searches would mostly fault
    /// pages in and give them back again (`searchByRead`).
    private let searchesByRead: Bool
    /// The first filter word of each bucket (`bucketCount + 1` entries, the last one the total).
    private let filterStarts: [Int]

    private struct Checks {
        var verified = [UInt64](repeating: 0, count: IndexTableFormat.bucketCount / 64)
        var bad = [UInt64](repeating: 0, count: IndexTableFormat.bucketCount / 64)
        var touched = [UInt64](repeating: 0, count: IndexTableFormat.bucketCount / 64)
        /// The 64 KiB windows of the records that searches have faulted in (`mappedBytes`),
        /// one bit each; a window holds many buckets when the table is small.
        var touchedWindows: [UInt64] = []
        var touchedBytes = 0
        /// Buckets first touched since the resident size was last read, and what it was
        /// after the last release (`ResidentSize.fileBacked()`).
        var touchedSinceSample = 0
        var residentAfterRelease: Int?
        var releases = 0
        var damaged = false
        /// The records of damaged buckets, read again from the index files, by bucket.
        var replaced: [Int: [Record]] = [:]
    }
    private let checks = Mutex(Checks())

    /// Reads the index files `files` again and gives their entries, with their packs, whose
    /// blob IDs fall in `buckets`; `nil` when a file cannot be read. Answers damaged buckets.
    typealias BucketSource = @Sendable (_ files: Set<IndexID>, _ buckets: Set<Int>) -> [(pack: PackID, entry: PackEntry)]?
    private let bucketSource: BucketSource?

    /// How a search may use a bucket: through the file, from records read again, or not at all.
    private enum BucketUse {
        case table
        case replaced([Record])
        case damaged
    }

    /// Maps the table at `path` and checks everything but the records.
    ///
    /// - Parameter residentBudget: record bytes searched before the pages are given back.
    /// - Throws: `IndexTableError.system` when the file cannot be opened or mapped,
    ///   `.malformed` when it is not a complete, consistent table.
    init(path: String, residentBudget: Int = 64 << 20, bucketSource: BucketSource? = nil) throws(IndexTableError) {
        self.path = path
        self.residentBudget = residentBudget
        self.bucketSource = bucketSource
        // O_NONBLOCK: a fifo planted in its place must not block the open forever (it is
        // then refused as not a regular file, and the table rebuilt).
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW)
        guard fd >= 0 else { throw .system(call: "open", path: path, errno: errno) }
        self.fd = fd
        // No read-ahead for `pread` searches either: it would fill the page cache with large
        // folios, which a later fault maps whole.
        posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw .system(call: "fstat", path: path, errno: code)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .malformed(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size >= IndexTableFormat.recordsOffset else {
            close(fd)
            throw .malformed(path: path, reason: "shorter than a table")
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            close(fd)
            throw .system(call: "mmap", path: path, errno: errno)
        }
        // Lookups are random: no read-ahead (fault-around still maps 64 KiB windows; see
        // `mappedBytes(bucket:)`).
        madvise(mapped, size, MADV_RANDOM)
        let view = UnsafeRawPointer(mapped)
        self.size = size
        base = view
        inode = info.st_ino
        // From here on, a failed check must unmap: `deinit` does not run for a failed init.
        do {
            let header = try Self.readHeader(view, size: size, path: path)
            filterStarts = header.filterStarts
            recordCount = header.records
            packCount = header.packs
            offsets = header.offsets
            searchesByRead = header.offsets.packs - IndexTableFormat.recordsOffset > residentBudget
            files = (0..<header.files).map { IndexID(raw: view.loadUnaligned(fromByteOffset: header.offsets.files + $0 * 32, as: RawID.self)) }
            edges = (0..<header.edges).map { n in
                let at = header.offsets.edges + n * IndexTableFormat.edgeSize
                return (IndexID(raw: view.loadUnaligned(fromByteOffset: at, as: RawID.self)),
                        IndexID(raw: view.loadUnaligned(fromByteOffset: at + 32, as: RawID.self)))
            }
            try checkStructure()
        } catch {
            munmap(mapped, size)
            close(fd)
            throw error
        }
        checks.withLock { $0.residentAfterRelease = ResidentSize.fileBacked() }
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), size)
        close(fd)
    }

    private struct Header {
        let records: Int, packs: Int, files: Int, edges: Int, offsets: IndexTableFormat.Offsets, filterStarts: [Int]
    }

    /// Reads the header and checks the sizes and the metadata checksum.
    private static func readHeader(_ base: UnsafeRawPointer, size: Int, path: String) throws(IndexTableError) -> Header {
        func u64(_ at: Int) -> UInt64 { base.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
        func u32(_ at: Int) -> UInt32 { base.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
        guard u64(0) == IndexTableFormat.magic else { throw .malformed(path: path, reason: "not an index table") }
        guard u32(8) == IndexTableFormat.version, Int(u32(12)) == IndexTableFormat.recordSize else {
            throw .malformed(path: path, reason: "version \(u32(8)), record size \(u32(12))")
        }
        // Counts are bounded by the file size before any arithmetic, so nothing overflows.
        let counts = [u64(16), u64(24), u64(32), u64(40)]
        guard counts.allSatisfy({ $0 <= UInt64(size) }), u64(48) == UInt64(size) else {
            throw .malformed(path: path, reason: "counts do not fit the file's \(size) bytes")
        }
        let records = Int(counts[0]), packs = Int(counts[1]), files = Int(counts[2]), edges = Int(counts[3])
        // The filter's size follows from the directory's record counts (checked against the
        // file size here, and against the records in `checkStructure`).
        var filterStarts = [0]
        filterStarts.reserveCapacity(IndexTableFormat.bucketCount + 1)
        for b in 0..<IndexTableFormat.bucketCount {
            let first = Int(u32(IndexTableFormat.directoryOffset + b * 4)), next = Int(u32(IndexTableFormat.directoryOffset + (b + 1) * 4))
            filterStarts.append(filterStarts[b] + IndexTableFormat.filterWords(records: max(0, next - first)))
        }
        let offsets = IndexTableFormat.Offsets(records: records, packs: packs, files: files, edges: edges,
                                               filterWords: filterStarts[IndexTableFormat.bucketCount])
        guard offsets.end == size, packs < Int(BlobIndex.treeFlag) else {
            throw .malformed(path: path, reason: "sections end at \(offsets.end), the file at \(size)")
        }
        var sum = TableChecksum()
        sum.add(UnsafeRawBufferPointer(start: base, count: IndexTableFormat.checkedHeaderBytes))
        sum.add(UnsafeRawBufferPointer(start: base + IndexTableFormat.directoryOffset,
                                       count: IndexTableFormat.recordsOffset - IndexTableFormat.directoryOffset))
        sum.add(UnsafeRawBufferPointer(start: base + offsets.packs, count: size - offsets.packs))
        guard sum.value == u64(IndexTableFormat.checkedHeaderBytes) else { throw .malformed(path: path, reason: "checksum mismatch") }
        return Header(records: records, packs: packs, files: files, edges: edges, offsets: offsets, filterStarts: filterStarts)
    }

    /// The checksum held the structure together against damage; this holds it against a
    /// writer's bug: a monotonic directory, record counts that add up, pack IDs in order.
    private func checkStructure() throws(IndexTableError) {
        guard bucketStart(0) == 0, bucketStart(IndexTableFormat.bucketCount) == recordCount else {
            throw .malformed(path: path, reason: "bucket directory does not cover the records")
        }
        for b in 0..<IndexTableFormat.bucketCount where bucketStart(b) > bucketStart(b + 1) {
            throw .malformed(path: path, reason: "bucket directory out of order at \(b)")
        }
        var total = 0
        var previous: RawID?
        for k in 0..<packCount {
            total += packRow(k).records
            let number = base.loadUnaligned(fromByteOffset: offsets.packOrder + k * 4, as: UInt32.self)
            guard Int(number) < packCount else { throw .malformed(path: path, reason: "pack number out of range") }
            let id = packRow(Int(number)).id.raw
            if let previous, !(previous < id) { throw .malformed(path: path, reason: "pack order not sorted") }
            previous = id
        }
        guard total == recordCount else { throw .malformed(path: path, reason: "pack record counts do not add up") }
        guard zip(files, files.dropFirst()).allSatisfy({ $0.0 < $0.1 }) else {
            throw .malformed(path: path, reason: "file list not sorted")
        }
    }

    // MARK: Bounds-checked access

    /// The first record of bucket `b` (`b == bucketCount`: the record count).
    private func bucketStart(_ b: Int) -> Int {
        precondition(b >= 0 && b <= IndexTableFormat.bucketCount, "bucket out of range")
        return Int(base.loadUnaligned(fromByteOffset: IndexTableFormat.directoryOffset + b * 4, as: UInt32.self))
    }

    /// Record `i`; `i` must be below `recordCount` (checked: the offset then lies in the records section).
    func record(_ i: Int) -> Record {
        precondition(i >= 0 && i < recordCount, "record out of range")
        return base.loadUnaligned(fromByteOffset: IndexTableFormat.recordsOffset + i * IndexTableFormat.recordSize, as: Record.self)
    }

    private func recordID(_ i: Int) -> RawID {
        precondition(i >= 0 && i < recordCount, "record out of range")
        return base.loadUnaligned(fromByteOffset: IndexTableFormat.recordsOffset + i * IndexTableFormat.recordSize, as: RawID.self)
    }

    /// Pack `n`'s row; `n` must be below `packCount`.
    func packRow(_ n: Int) -> (id: PackID, salt: [UInt8], size: Int, records: Int) {
        precondition(n >= 0 && n < packCount, "pack out of range")
        let at = offsets.packs + n * IndexTableFormat.packRowSize
        let salt = Array(UnsafeRawBufferPointer(start: base + at + 32, count: PackFormat.saltLength))
        return (PackID(raw: base.loadUnaligned(fromByteOffset: at, as: RawID.self)), salt,
                Int(base.loadUnaligned(fromByteOffset: at + 56, as: UInt32.self)),
                Int(base.loadUnaligned(fromByteOffset: at + 60, as: UInt32.self)))
    }

    /// The number of the pack with this ID (binary search of the sorted pack order).
    func packNumber(of id: PackID) -> UInt32? {
        var low = 0, high = packCount
        while low < high {
            let mid = (low + high) / 2
            let number = base.loadUnaligned(fromByteOffset: offsets.packOrder + mid * 4, as: UInt32.self)
            let found = base.loadUnaligned(fromByteOffset: offsets.packs + Int(number) * IndexTableFormat.packRowSize, as: RawID.self)
            if found == id.raw { return number }
            if found < id.raw { low = mid + 1 } else { high = mid }
        }
        return nil
    }

    // MARK: Search

    /// The record for `id`, or `nil` when the table does not hold it (or its bucket is damaged).
    func find(_ id: RawID) -> Record? {
        locate(id)?.record
    }

    /// The number of the record for `id` (`0..<recordCount`), or `nil` when the table does not
    /// hold it (or its bucket is damaged).
    func position(of id: RawID) -> Int? {
        locate(id)?.position
    }

    /// Whether `id` may be in the table: `false` means it is not (a Bloom filter per bucket,
    /// `IndexTableFormat.filterBits`; covered by the checksum checked at open).
    func mayContain(_ id: RawID) -> Bool {
        let b = IndexTableFormat.bucket(of: id)
        let first = filterStarts[b], words = filterStarts[b + 1] - first
        guard words > 0 else { return false }
        var all = true
        IndexTableFormat.filterBits(of: id, words: words) { bit in
            let word = base.loadUnaligned(fromByteOffset: offsets.filter + (first + bit / 64) * 8, as: UInt64.self)
            all = word & (UInt64(1) << UInt64(bit % 64)) != 0
            return all
        }
        return all
    }

    /// The position and record for `id`.
    private func locate(_ id: RawID) -> (position: Int, record: Record)? {
        guard mayContain(id) else { return nil }
        let b = IndexTableFormat.bucket(of: id)
        switch use(bucket: b, mapped: !searchesByRead) {
        case .damaged: return nil
        case let .replaced(records):
            var low = 0, high = records.count
            while low < high {
                let mid = (low + high) / 2
                if records[mid].id < id { low = mid + 1 } else { high = mid }
            }
            return low < records.count && records[low].id == id ? (bucketStart(b) + low, records[low]) : nil
        case .table: break
        }
        if searchesByRead { return searchByRead(id, bucket: b) }
        return searchMapped(id, in: bucketStart(b)..<bucketStart(b + 1)).map { ($0, record($0)) }
    }

    /// Binary search of records `range` through the mapping.
    private func searchMapped(_ id: RawID, in range: Range<Int>) -> Int? {
        var low = range.lowerBound, high = range.upperBound
        while low < high {
            let mid = (low + high) / 2
            let found = recordID(mid)
            if found == id { return mid }
            if found < id { low = mid + 1 } else { high = mid }
        }
        return nil
    }

    /// `position(of:)` for a table larger than the resident budget: reads the records
    /// around where `id` should lie and searches those.
    ///
    /// IDs are hashes, so within a bucket they are spread evenly and the bits after the
    /// bucket's give the place of `id` to within a few records (for 300 records a bucket, the
    /// spread is about ±9): one `pread` of `window` records around it; when `id` lies outside
    /// them (about one lookup in 15 at 300 records a bucket), of the next `2 × window` records
    /// on its side, and of the whole bucket only when it lies beyond those too. Mapped, the
    /// same search faults in 64 KiB or more of pages per lookup and gives them back at every
    /// budget release; read, it costs one system call and a copy of 1.5 KiB from the page
    /// cache, and nothing stays resident.
    private func searchByRead(_ id: RawID, bucket b: Int) -> (position: Int, record: Record)? {
        let start = bucketStart(b), end = bucketStart(b + 1)
        guard start < end else { return nil }
        let fraction = Double((id.w0 << UInt64(IndexTableFormat.bucketBits)) >> 11) / Double(UInt64(1) << 53)
        let guess = start + Int(fraction * Double(end - start))
        let window = 32
        let low = max(start, min(guess - window / 2, end - window)), high = min(end, low + window)
        var outcome = read(low..<high, searchingFor: id, bucket: start..<end)
        switch outcome {
        case .below:
            outcome = read(max(start, low - 2 * window)..<low, searchingFor: id, bucket: start..<end)
            // Above the records before the window and below the window: between the two.
            if case .above = outcome { outcome = .absent }
        case .above:
            outcome = read(high..<min(end, high + 2 * window), searchingFor: id, bucket: start..<end)
            if case .below = outcome { outcome = .absent }
        default: break
        }
        switch outcome {
        case .below, .above: outcome = read(start..<end, searchingFor: id, bucket: start..<end)
        default: break
        }
        switch outcome {
        case .found(let position, let record): return (position, record)
        case .absent: return nil
        case .below, .above, .failed:  // a read error (the whole bucket is never outside)
            guard case .table = use(bucket: b) else { return nil }
            return searchMapped(id, in: start..<end).map { ($0, self.record($0)) }
        }
    }

    /// What a read of some records found: `id`, its absence, or that it lies before (`below`)
    /// or after (`above`) the records read.
    private enum ReadOutcome { case found(Int, Record), absent, below, above, failed }

    /// Reads records `range` of the bucket spanning `bucket`, and binary-searches them for `id`.
    private func read(_ range: Range<Int>, searchingFor id: RawID, bucket: Range<Int>) -> ReadOutcome {
        guard !range.isEmpty else { return .failed }
        let size = IndexTableFormat.recordSize
        return withUnsafeTemporaryAllocation(byteCount: range.count * size, alignment: 8) { buffer in
            let wanted = range.count * size
            guard pread(fd, buffer.baseAddress, wanted, off_t(IndexTableFormat.recordsOffset + range.lowerBound * size)) == wanted else {
                return .failed
            }
            let records = UnsafeRawBufferPointer(buffer)
            func idAt(_ i: Int) -> RawID { records.loadUnaligned(fromByteOffset: i * size, as: RawID.self) }
            if range.lowerBound > bucket.lowerBound && id < idAt(0) { return .below }
            if range.upperBound < bucket.upperBound && idAt(range.count - 1) < id { return .above }
            var low = 0, high = range.count
            while low < high {
                let mid = (low + high) / 2
                let found = idAt(mid)
                if found == id { return .found(range.lowerBound + mid, records.loadUnaligned(fromByteOffset: mid * size, as: Record.self)) }
                if found < id { low = mid + 1 } else { high = mid }
            }
            return .absent
        }
    }

    /// Calls `body` with every record of every sound bucket, in order.
    ///
    /// - Returns: `false` when a bucket was damaged and left out.
    @discardableResult
    func forEach(_ body: (Record) throws -> Void) rethrows -> Bool {
        try forEachPosition { try body($1) }
    }

    /// As `forEach`, with each record's position.
    @discardableResult
    func forEachPosition(_ body: (Int, Record) throws -> Void) rethrows -> Bool {
        var sound = true
        for b in 0..<IndexTableFormat.bucketCount {
            switch use(bucket: b) {
            case .damaged: sound = false
            case let .replaced(records):
                let start = bucketStart(b)
                for (k, r) in records.enumerated() { try body(start + k, r) }
            case .table:
                for i in bucketStart(b)..<bucketStart(b + 1) { try body(i, record(i)) }
            }
        }
        return sound
    }

    /// The files of `files` that no file of `files` supersedes: those whose blobs the table holds.
    var liveFiles: Set<IndexID> {
        let known = Set(files)
        return known.subtracting(edges.filter { known.contains($0.0) }.map(\.1))
    }

    /// How often the record pages were given back for the budget (for tests).
    var budgetReleases: Int { checks.withLock { $0.releases } }

    /// Whether a damaged bucket has been found.
    var isDamaged: Bool { checks.withLock { $0.damaged } }

    /// Checks bucket `b` the first time it is used (through the mapping, or with `pread`
    /// when `mapped` is false), and for a use through the mapping counts it as touched and
    /// gives the record pages back when the touched buckets exceed the budget.
    private func use(bucket b: Int, mapped: Bool = true) -> BucketUse {
        let word = b / 64, bit = UInt64(1) << UInt64(b % 64)
        return checks.withLock { c in
            if c.verified[word] & bit == 0 {
                c.verified[word] |= bit
                if !verify(bucket: b, mapped: mapped) {
                    c.bad[word] |= bit
                    if !c.damaged { c.damaged = true; discardFile() }
                    replaceDamagedBuckets(&c)
                }
            }
            if c.bad[word] & bit != 0 { return .damaged }
            if !c.replaced.isEmpty, let records = c.replaced[b] { return .replaced(records) }
            guard mapped, c.touched[word] & bit == 0 else { return .table }
            c.touched[word] |= bit
            c.touchedBytes += mappedBytes(bucket: b, counted: &c.touchedWindows)
            c.touchedSinceSample += 1
            if c.touchedBytes > residentBudget || isOverBudget(&c) {
                releaseRecordPages()
                c.releases += 1
                for i in c.touched.indices { c.touched[i] = 0 }
                c.touchedWindows.removeAll(keepingCapacity: true)
                c.touchedBytes = 0
                c.residentAfterRelease = ResidentSize.fileBacked()
            }
            return .table
        }
    }

    /// Checks every bucket not checked yet (with `pread`, so nothing stays resident), then
    /// reads the records of the damaged ones again from the index files the table holds. A
    /// bucket that gets back exactly as many records as the directory gives it (one per ID,
    /// as the table keeps them) is answered from them from then on, at the same positions;
    /// the others stay damaged. Runs once, when the first damaged bucket is found.
    private func replaceDamagedBuckets(_ c: inout Checks) {
        guard let bucketSource else { return }
        for b in 0..<IndexTableFormat.bucketCount {
            let word = b / 64, bit = UInt64(1) << UInt64(b % 64)
            guard c.verified[word] & bit == 0 else { continue }
            c.verified[word] |= bit
            if !verify(bucket: b, mapped: false) { c.bad[word] |= bit }
        }
        let damaged = Set((0..<IndexTableFormat.bucketCount).filter { c.bad[$0 / 64] & (UInt64(1) << UInt64($0 % 64)) != 0 })
        guard !damaged.isEmpty, let entries = bucketSource(liveFiles, damaged) else { return }
        var found: [Int: [Record]] = [:]
        for (pack, entry) in entries {
            guard let number = packNumber(of: pack) else { continue }
            found[IndexTableFormat.bucket(of: entry.id.raw), default: []].append(BlobIndex.record(entry, pack: number))
        }
        for b in damaged {
            var records = (found[b] ?? []).sorted { $0.id < $1.id }
            records = records.enumerated().filter { $0.offset == 0 || records[$0.offset - 1].id != $0.element.id }.map(\.element)
            guard records.count == bucketStart(b + 1) - bucketStart(b) else { continue }
            c.replaced[b] = records
            c.bad[b / 64] &= ~(UInt64(1) << UInt64(b % 64))
        }
    }

    /// Every `Self.sampleEvery` new buckets, whether the file-backed resident size grew by
    /// more than the budget since the last release: the estimate (`mappedBytes`) is a lower
    /// bound where a fault maps large folios.
    private func isOverBudget(_ c: inout Checks) -> Bool {
        guard c.touchedSinceSample >= Self.sampleEvery else { return false }
        c.touchedSinceSample = 0
        guard let now = ResidentSize.fileBacked() else { return false }
        guard let base = c.residentAfterRelease else { c.residentAfterRelease = now; return false }
        return now - base > residentBudget
    }

    private static let sampleEvery = 64

    /// The most a search of bucket `b` can add to the resident size. A page fault on a file
    /// mapping maps the cached pages around it too ("fault-around", 64 KiB aligned windows
    /// by default on Linux; MADV_RANDOM does not turn it off on the kernels measured), so a
    /// bucket costs every window its records overlap, not just its pages: counting pages
    /// instead let 20 M-blob prunes hold 600 MiB of a table under a 64 MiB budget. A window
    /// counts once until the next release (`counted`, a bit a window): in a table of a
    /// million blobs, 90 buckets share each window, and counting it for each of them gave
    /// the pages back after a thousand searches, only to fault them in again.
    private func mappedBytes(bucket b: Int, counted: inout [UInt64]) -> Int {
        let window = 64 << 10
        let first = IndexTableFormat.recordsOffset + bucketStart(b) * IndexTableFormat.recordSize
        let end = IndexTableFormat.recordsOffset + bucketStart(b + 1) * IndexTableFormat.recordSize
        var added = 0
        for w in first / window...max(end - 1, first) / window {
            if w / 64 >= counted.count { counted += repeatElement(0, count: w / 64 + 1 - counted.count) }
            let bit = UInt64(1) << UInt64(w % 64)
            guard counted[w / 64] & bit == 0 else { continue }
            counted[w / 64] |= bit
            added += window
        }
        return added
    }

    /// Checksum, order, bucket and pack number of every record in bucket `b`.
    private func verify(bucket b: Int, mapped: Bool) -> Bool {
        let start = bucketStart(b), end = bucketStart(b + 1)
        let size = IndexTableFormat.recordSize
        let at = IndexTableFormat.recordsOffset + start * size, count = (end - start) * size
        if mapped { return verify(records: UnsafeRawBufferPointer(start: base + at, count: count), bucket: b) }
        return withUnsafeTemporaryAllocation(byteCount: max(count, 1), alignment: 8) { buffer in
            count == 0 || pread(fd, buffer.baseAddress, count, off_t(at)) == count
                && verify(records: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[..<count]), bucket: b)
        }
    }

    private func verify(records: UnsafeRawBufferPointer, bucket b: Int) -> Bool {
        var sum = TableChecksum()
        sum.add(records)
        let stored = base.loadUnaligned(fromByteOffset: IndexTableFormat.sumsOffset + b * 8, as: UInt64.self)
        guard sum.value == stored else { return false }
        var previous: RawID?
        for i in 0..<records.count / IndexTableFormat.recordSize {
            let r = records.loadUnaligned(fromByteOffset: i * IndexTableFormat.recordSize, as: Record.self)
            guard IndexTableFormat.bucket(of: r.id) == b, Int(r.packNumber) < packCount else { return false }
            if let previous, !(previous < r.id) { return false }
            previous = r.id
        }
        return true
    }

    /// Drops the record pages from this process's resident set; the page cache keeps them.
    func releaseRecordPages() {
        let start = IndexTableFormat.recordsOffset  // page-aligned
        let length = offsets.packs - start
        if length > 0 { madvise(UnsafeMutableRawPointer(mutating: base + start), length, MADV_DONTNEED) }
    }

    /// Deletes the file, if it is still this table's, so that the next command rebuilds it.
    private func discardFile() {
        var info = stat()
        if stat(path, &info) == 0, info.st_ino == inode { unlink(path) }
    }
}
