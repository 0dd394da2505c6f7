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

    /// An empty set numbered by `index`'s current table.
    public init(numberingBy index: BlobIndex) {
        self.index = index
        table = index.mappedTable
        bits = PositionBits(count: table?.recordCount ?? 0)
    }

    public var count: Int { tableMembers + others.count }

    public func contains(_ id: BlobID) -> Bool {
        if let p = table?.position(of: id.raw) { return bits.contains(p) }
        return others.contains(id)
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
        var fresh = IndexedBlobSet(numberingBy: index)
        forEach { fresh.insert($0) }
        self = fresh
    }

    /// Folds recent insertions of the blobs outside the table (see `BlobIDSet.consolidate`).
    public mutating func consolidate() { others.consolidate() }

    /// Calls `body` with every member: the table's in ID order, then the others.
    public func forEach(_ body: (BlobID) throws -> Void) rethrows {
        if let table, tableMembers > 0 {
            for p in 0..<table.recordCount where bits.contains(p) { try body(BlobID(raw: table.record(p).id)) }
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
