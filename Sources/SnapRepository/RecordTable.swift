import CPosix
import Glibc

private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

/// A sorted table of fixed-size records in anonymous memory of its own.
///
/// The table grows with `mremap`, which moves pages instead of copying them, and new
/// records are merged in place from the back. An `Array` grows by copying into a buffer
/// twice the size, so the index of a large backup would, for a moment, be resident twice.
/// Here the table's resident size stays that of its records. Not thread-safe: `BlobIndex`
/// calls it only under its lock.
final class RecordTable<Record: BitwiseCopyable>: @unchecked Sendable {
    private var base: UnsafeMutablePointer<Record>?
    /// Mapped bytes (a whole number of pages; 0 when nothing is mapped).
    private var mappedBytes = 0
    private(set) var count = 0

    init() {}

    /// A table holding the same records as `other`, in memory of its own.
    convenience init(copying other: RecordTable) {
        self.init()
        other.withRecords { records in
            reserve(records.count)
            guard let base, let source = records.baseAddress else { return }
            base.initialize(from: source, count: records.count)
            count = records.count
        }
    }

    /// Adds a record at the end, out of order: call `sortAndDeduplicate` before searching.
    func append(_ record: Record) {
        reserve(count + 1)
        base.unsafelyUnwrapped[count] = record
        count += 1
    }

    /// Sorts the records by `isOrdered` and reduces neighbours that `isDuplicate` says are
    /// the same to one of them.
    func sortAndDeduplicate(by isOrdered: (Record, Record) -> Bool, dropping isDuplicate: (Record, Record) -> Bool) {
        guard let base else { return }
        var all = UnsafeMutableBufferPointer(start: base, count: count)
        all.sort(by: isOrdered)
        var kept = 0
        for i in 0..<count where kept == 0 || !isDuplicate(base[i], base[kept - 1]) {
            base[kept] = base[i]
            kept += 1
        }
        count = kept
        shrinkToFit()
    }

    deinit { unmap() }

    subscript(i: Int) -> Record {
        precondition(i >= 0 && i < count, "record index out of range")
        return base.unsafelyUnwrapped[i]
    }

    /// The first index whose record is not ordered before the probe, by `isBefore`
    /// (binary search; `count` when every record is).
    func partitionPoint(_ isBefore: (Record) -> Bool) -> Int {
        partitionPoint(in: 0..<count, isBefore)
    }

    /// `partitionPoint` within `range` (which must lie within `0..<count`).
    func partitionPoint(in range: Range<Int>, _ isBefore: (Record) -> Bool) -> Int {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range out of bounds")
        guard let base else { return range.lowerBound }
        var low = range.lowerBound, high = range.upperBound
        while low < high {
            let mid = (low + high) / 2
            if isBefore(base[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Merges `sorted` (ordered by `isOrdered`, sharing no record with the table) into the
    /// table, moving records from the back so that nothing is copied twice.
    func merge(_ sorted: [Record], by isOrdered: (Record, Record) -> Bool) {
        guard !sorted.isEmpty else { return }
        reserve(count + sorted.count)
        guard let base else { return }
        var i = count - 1, j = sorted.count - 1, out = count + sorted.count - 1
        while j >= 0 {
            if i >= 0 && isOrdered(sorted[j], base[i]) {
                base[out] = base[i]; i -= 1
            } else {
                base[out] = sorted[j]; j -= 1
            }
            out -= 1
        }
        count += sorted.count
    }

    /// Removes every record for which `shouldRemove` is true, keeping the order.
    func removeAll(where shouldRemove: (Record) -> Bool) {
        guard let base else { return }
        var kept = 0
        for i in 0..<count where !shouldRemove(base[i]) {
            base[kept] = base[i]
            kept += 1
        }
        count = kept
        shrinkToFit()
    }

    /// Calls `body` with the records as one buffer (valid only during the call).
    func withRecords<R>(_ body: (UnsafeBufferPointer<Record>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    /// Forgets every record and gives the memory back.
    func removeAll() { unmap() }

    /// Calls `body` with every record in order.
    func forEach(_ body: (Record) -> Void) {
        guard let base else { return }
        for i in 0..<count { body(base[i]) }
    }

    /// Room for at least `capacity` records; grows by half again, as untouched pages cost nothing.
    func reserve(_ capacity: Int) {
        let stride = MemoryLayout<Record>.stride
        guard capacity * stride > mappedBytes else { return }
        let wanted = max(capacity * stride, mappedBytes + mappedBytes / 2)
        remap(to: (wanted + pageSize - 1) / pageSize * pageSize)
    }

    /// Gives back the pages beyond the last record.
    private func shrinkToFit() {
        let needed = (count * MemoryLayout<Record>.stride + pageSize - 1) / pageSize * pageSize
        if needed < mappedBytes { remap(to: needed) }
    }

    private func remap(to bytes: Int) {
        if bytes == 0 { unmap(); return }
        let address: UnsafeMutableRawPointer?
        if let base, mappedBytes > 0 {
            address = cposix_mremap_may_move(UnsafeMutableRawPointer(base), mappedBytes, bytes)
        } else {
            address = Self.map(bytes)
        }
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            fatalError("out of memory: the blob index needs \(bytes) bytes")
        }
        base = address.bindMemory(to: Record.self, capacity: bytes / MemoryLayout<Record>.stride)
        mappedBytes = bytes
    }

    private static func map(_ bytes: Int) -> UnsafeMutableRawPointer? {
        mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    }

    private func unmap() {
        if let base, mappedBytes > 0 { munmap(UnsafeMutableRawPointer(base), mappedBytes) }
        base = nil
        mappedBytes = 0
        count = 0
    }
}
