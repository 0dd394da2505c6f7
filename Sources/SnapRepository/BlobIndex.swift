import SnapCore
import Synchronization

/// Where to find a blob: its pack and its entry in that pack.
public struct BlobLocation: Sendable {
    public let pack: PackID
    public let salt: [UInt8]
    public let entry: PackEntry
}

/// The in-memory index of every blob in the repository.
///
/// Each blob costs 48 bytes: a sorted table of fixed-size records (32-byte ID, pack
/// number with the blob type in its top bit, offset, stored length, plaintext length),
/// searched by binary search, in memory that grows without a second copy (`RecordTable`).
/// Packs are stored once in a table (about 100 bytes each). Blobs added during a command
/// go to a small hash map, folded into the table whenever it holds an eighth as many.
/// Thread-safe.
public final class BlobIndex: Sendable {
    struct Record {
        var id: RawID
        var packAndType: UInt32
        var offset: UInt32
        var length: UInt32
        var rawLength: UInt32
    }

    struct Pack {
        var id: PackID
        var salt: [UInt8]
        var size: Int
    }

    struct State {
        var sorted = RecordTable<Record>()
        var added: [BlobID: Record] = [:]
        var packs: [Pack] = []
        var packNumbers: [PackID: UInt32] = [:]
    }

    private let state = Mutex(State())
    private static let treeFlag: UInt32 = 1 << 31

    public init() {}

    /// Bytes of memory per indexed blob in the sorted table.
    public static var bytesPerBlob: Int { MemoryLayout<Record>.stride }

    /// Replaces the contents with the packs of `files` (all index files that are not superseded).
    public func load(_ files: [IndexFile]) {
        var fresh = State()
        fresh.sorted.reserve(files.reduce(0) { $0 + $1.packs.reduce(0) { $0 + $1.entries.count } })
        for file in files {
            for pack in file.packs {
                let number = Self.register(pack, in: &fresh)
                for e in pack.entries { fresh.sorted.append(Self.record(e, pack: number)) }
            }
        }
        // A blob may be named by several index files (a pack indexed twice, or a blob stored
        // again after a crash): keep one record per ID, so the index holds distinct blobs.
        fresh.sorted.sortAndDeduplicate(by: { $0.id < $1.id }, dropping: { $0.id == $1.id })
        state.withLock { $0 = fresh }
    }

    /// Adds the blobs of a pack that was just uploaded.
    public func add(_ pack: IndexedPack) {
        state.withLock { s in
            let number = Self.register(pack, in: &s)
            for e in pack.entries where Self.find(e.id.raw, in: s.sorted) == nil {
                s.added[e.id] = Self.record(e, pack: number)
            }
            // A hash map costs two to three times the sorted table per blob: a backup that
            // adds many blobs folds them in as it goes, so memory stays near 48 bytes per blob.
            if s.added.count >= max(4096, s.sorted.count / 8) { Self.mergeAdded(into: &s) }
        }
    }

    /// Moves the added records into the sorted table (no ID is in both: `add` checks).
    private static func mergeAdded(into s: inout State) {
        s.sorted.merge(s.added.values.sorted { $0.id < $1.id }, by: { $0.id < $1.id })
        s.added = [:]
    }

    /// Forgets the records that point into `packs`. Used by backups so that they do not
    /// deduplicate against packs a prune has condemned; since the index keeps one record
    /// per blob, a blob also held elsewhere may be forgotten too and is then stored again.
    public func remove(packs: Set<PackID>) {
        guard !packs.isEmpty else { return }
        state.withLock { s in
            let numbers = Set(packs.compactMap { s.packNumbers[$0] })
            guard !numbers.isEmpty else { return }
            let inRemoved = { (r: Record) in numbers.contains(r.packAndType & ~Self.treeFlag) }
            s.sorted.removeAll(where: inRemoved)
            s.added = s.added.filter { !inRemoved($0.value) }
        }
    }

    /// Whether any pack holds the blob.
    public func contains(_ id: BlobID) -> Bool { lookup(id) != nil }

    /// The blob's location, or `nil` when no index names it.
    public func lookup(_ id: BlobID) -> BlobLocation? {
        state.withLock { s in
            guard let r = Self.find(id.raw, in: s.sorted).map({ s.sorted[$0] }) ?? s.added[id] else { return nil }
            let pack = s.packs[Int(r.packAndType & ~Self.treeFlag)]
            let type: BlobType = r.packAndType & Self.treeFlag != 0 ? .tree : .data
            return BlobLocation(pack: pack.id, salt: pack.salt,
                                entry: PackEntry(type: type, id: id, offset: r.offset, length: r.length, rawLength: r.rawLength))
        }
    }

    /// Every indexed pack with its size.
    public var packs: [(id: PackID, size: Int)] {
        state.withLock { $0.packs.map { ($0.id, $0.size) } }
    }

    /// The IDs of every indexed blob (for resolving ID prefixes).
    public func allBlobIDs() -> [BlobID] {
        state.withLock { s in
            var ids: [BlobID] = []
            ids.reserveCapacity(s.sorted.count + s.added.count)
            s.sorted.forEach { ids.append(BlobID(raw: $0.id)) }
            return ids + s.added.keys
        }
    }

    /// The size of an indexed pack, if the index names it.
    public func packSize(_ id: PackID) -> Int? {
        state.withLock { s in s.packNumbers[id].map { s.packs[Int($0)].size } }
    }

    /// The number of distinct blobs indexed.
    public var count: Int { state.withLock { $0.sorted.count + $0.added.count } }

    private static func register(_ pack: IndexedPack, in s: inout State) -> UInt32 {
        if let n = s.packNumbers[pack.id] { return n }
        let n = UInt32(s.packs.count)
        s.packs.append(Pack(id: pack.id, salt: pack.salt, size: pack.size))
        s.packNumbers[pack.id] = n
        return n
    }

    private static func record(_ e: PackEntry, pack: UInt32) -> Record {
        Record(id: e.id.raw, packAndType: pack | (e.type == .tree ? treeFlag : 0),
               offset: e.offset, length: e.length, rawLength: e.rawLength)
    }

    private static func find(_ id: RawID, in sorted: RecordTable<Record>) -> Int? {
        let low = sorted.partitionPoint { $0.id < id }
        return low < sorted.count && sorted[low].id == id ? low : nil
    }
}
