import SnapCore

/// A set of blob IDs for bookkeeping that grows with the repository (the blobs prune finds
/// in use, the trees check has walked), at about 32 bytes a blob.
///
/// The IDs live in a sorted table (`RecordTable`, which grows without a second copy) and a
/// small hash set of recent insertions, folded into the table whenever it holds an eighth
/// as many. A `Set<BlobID>` costs 43–85 bytes a blob (32-byte elements at a load factor of
/// at most 3/4, doubling), and twice that for a moment while it grows.
///
/// After `consolidate()`, every member has a `position` below `count`: its rank in ID order,
/// stable until the next insertion, so that a bit array can mark members at one bit each.
/// A value type: a copy that is changed copies the table first.
public struct BlobIDSet {
    private final class Storage {
        let sorted: RecordTable<RawID>
        var pending: Set<RawID> = []
        /// The first position of each value of an ID's top `bucketBits` bits, and the count:
        /// a search looks only within its bucket. Empty while the table is small.
        var directory: [UInt32] = []

        static let bucketBits = 16

        init(sorted: RecordTable<RawID> = RecordTable()) { self.sorted = sorted }

        func copy() -> Storage {
            let fresh = Storage(sorted: RecordTable(copying: sorted))
            fresh.pending = pending
            fresh.directory = directory
            return fresh
        }

        /// The rank of `id` in the sorted table, or `nil` when the table does not hold it.
        func position(of id: RawID) -> Int? {
            var range = 0..<sorted.count
            if !directory.isEmpty {
                let b = Int(id.w0 >> UInt64(64 - Self.bucketBits))
                range = Int(directory[b])..<Int(directory[b + 1])
            }
            let low = sorted.partitionPoint(in: range) { $0 < id }
            return low < range.upperBound && sorted[low] == id ? low : nil
        }

        func fold() {
            guard !pending.isEmpty else { return }
            sorted.merge(pending.sorted(), by: <)
            pending = []
            indexBuckets()
        }

        /// Rebuilds `directory` in one pass over the table (4 bytes a bucket, 256 KiB in all).
        private func indexBuckets() {
            let buckets = 1 << Self.bucketBits
            guard sorted.count >= buckets, sorted.count <= Int(UInt32.max) else { directory = []; return }
            var starts = [UInt32](repeating: 0, count: buckets + 1)
            var next = 0
            sorted.withRecords { all in
                for (i, id) in all.enumerated() {
                    let b = Int(id.w0 >> UInt64(64 - Self.bucketBits))
                    while next <= b { starts[next] = UInt32(i); next += 1 }
                }
            }
            while next <= buckets { starts[next] = UInt32(sorted.count); next += 1 }
            directory = starts
        }
    }

    private var storage = Storage()

    public init() {}

    public init<S: Sequence>(_ ids: S) where S.Element == BlobID {
        for id in ids { insert(id) }
    }

    /// Bytes per member once consolidated.
    public static var bytesPerBlob: Int { MemoryLayout<RawID>.stride }

    public var count: Int { storage.sorted.count + storage.pending.count }
    public var isEmpty: Bool { count == 0 }

    /// Members with a `position`: all of them right after `consolidate()`.
    public var positionCount: Int { storage.sorted.count }

    public func contains(_ id: BlobID) -> Bool {
        storage.pending.contains(id.raw) || storage.position(of: id.raw) != nil
    }

    /// Adds `id`; `true` when it was not a member.
    @discardableResult
    public mutating func insert(_ id: BlobID) -> Bool {
        if contains(id) { return false }
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        storage.pending.insert(id.raw)
        if storage.pending.count >= max(4096, storage.sorted.count / 8) { storage.fold() }
        return true
    }

    /// Folds recent insertions into the sorted table, so that every member has a `position`.
    public mutating func consolidate() {
        guard !storage.pending.isEmpty else { return }
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        storage.fold()
    }

    /// The rank of `id` among the members in the sorted table (`0..<positionCount`), or `nil`
    /// when it is not a member or was inserted after the last `consolidate()`.
    public func position(of id: BlobID) -> Int? { storage.position(of: id.raw) }

    /// Calls `body` with every member: those in the sorted table in ID order, then the
    /// recent insertions in no particular order.
    public func forEach(_ body: (BlobID) throws -> Void) rethrows {
        try storage.sorted.withRecords { all in for raw in all { try body(BlobID(raw: raw)) } }
        for raw in storage.pending { try body(BlobID(raw: raw)) }
    }

    /// The members for which `isIncluded` is true, in ID order.
    public func filter(_ isIncluded: (BlobID) throws -> Bool) rethrows -> [BlobID] {
        var kept: [BlobID] = []
        try forEach { if try isIncluded($0) { kept.append($0) } }
        return kept.sorted()
    }
}

/// One bit for each position of a consolidated `BlobIDSet` (or any dense numbering).
public struct PositionBits {
    private var words: [UInt64]

    public init(count: Int) { words = [UInt64](repeating: 0, count: (max(0, count) + 63) / 64) }

    public func contains(_ position: Int) -> Bool {
        words[position / 64] & (1 << UInt64(position % 64)) != 0
    }

    /// Sets the bit; `true` when it was clear.
    @discardableResult
    public mutating func insert(_ position: Int) -> Bool {
        let bit: UInt64 = 1 << UInt64(position % 64)
        let wasClear = words[position / 64] & bit == 0
        words[position / 64] |= bit
        return wasClear
    }
}
