import SnapCore

/// A set of blob IDs at one bit a blob for blobs in the index's mapped table (a bit per
/// record number) and a `BlobIDSet` for the others (no table, or blobs the table lacks).
///
/// The record numbers are those of the table the index held at `init` or at the last
/// `renumber()`: after the index is loaded again (which may map another table), call
/// `renumber()` before using the set. At 20 M indexed blobs the bits take 2.4 MiB.
public struct IndexedBlobSet {
    private let index: BlobIndex
    private var table: MappedIndexTable?
    private var bits: PositionBits
    private var tableMembers = 0
    private var others = BlobIDSet()
    /// Insertions not made yet (`insertLater`), made in ID order by `consolidate()` or when
    /// there are `deferredLimit` of them: sorted, their table searches walk the table in order.
    private var deferred: [RawID] = []
    static let deferredLimit = 1 << 20

    /// An empty set numbered by `index`'s current table.
    public init(numberingBy index: BlobIndex) {
        self.index = index
        table = index.mappedTable
        bits = PositionBits(count: table?.recordCount ?? 0)
    }

    /// The number of members (insertions deferred by `insertLater` count after `consolidate()`).
    public var count: Int { tableMembers + others.count }

    public func contains(_ id: BlobID) -> Bool {
        if let p = table?.position(of: id.raw) { if bits.contains(p) { return true } } else if others.contains(id) { return true }
        return !deferred.isEmpty && deferred.contains(id.raw)  // a linear search, only before `consolidate()`
    }

    /// Adds `id` later, in a sorted batch (32 bytes each until then, at most `deferredLimit`):
    /// for the many content blobs of a walk, whose searches of a large table then fault
    /// each page once per batch instead of once per blob.
    public mutating func insertLater(_ id: BlobID) {
        deferred.append(id.raw)
        if deferred.count >= Self.deferredLimit { flush() }
    }

    private mutating func flush() {
        guard !deferred.isEmpty else { return }
        // Sorted in place and handed over, so that no sorted copy (32 MiB at the limit) sits
        // beside the batch.
        deferred.sort()
        let batch = deferred
        deferred = []
        for raw in batch { insert(BlobID(raw: raw)) }
    }

    /// Adds `id`; `true` when it was not a member.
    @discardableResult
    public mutating func insert(_ id: BlobID) -> Bool {
        if let p = table?.position(of: id.raw) {
            guard bits.insert(p) else { return false }
            tableMembers += 1
            return true
        }
        return others.insert(id)
    }

    /// Renumbers the members by the index's current table, if it is not the one numbered by.
    public mutating func renumber() {
        let current = index.mappedTable
        guard current !== table else { return }
        flush()
        var fresh = IndexedBlobSet(numberingBy: index)
        forEach { fresh.insertLater($0) }
        fresh.flush()
        self = fresh
    }

    /// Makes the deferred insertions, and folds recent insertions of the blobs outside the
    /// table (see `BlobIDSet.consolidate`). `count`, `forEach` and positions hold after it.
    public mutating func consolidate() {
        flush()
        others.consolidate()
    }

    /// Calls `body` with every member: the table's in ID order, then the others.
    public func forEach(_ body: (BlobID) throws -> Void) rethrows {
        if let table, tableMembers > 0 {
            // Through the table's scan, which keeps its resident pages within budget.
            try table.forEachPosition { p, r in if bits.contains(p) { try body(BlobID(raw: r.id)) } }
        }
        try others.forEach(body)
    }

    /// The members for which `isIncluded` is true, in ID order.
    public func filter(_ isIncluded: (BlobID) throws -> Bool) rethrows -> [BlobID] {
        var kept: [BlobID] = []
        try forEach { if try isIncluded($0) { kept.append($0) } }
        return kept.sorted()
    }

    /// A dense number for each member (`0..<positionCount`) while the set is unchanged: the
    /// table's record numbers, then the others' positions after them.
    public func position(of id: BlobID) -> Int? {
        if let p = table?.position(of: id.raw) { return bits.contains(p) ? p : nil }
        return others.position(of: id).map { (table?.recordCount ?? 0) + $0 }
    }

    /// The bound of `position(of:)` (after `consolidate()`, every member has a position).
    public var positionCount: Int { (table?.recordCount ?? 0) + others.positionCount }
}
