import SnapCore
import Synchronization

/// Where to find a blob: its pack and its entry in that pack.
public struct BlobLocation: Sendable {
    public let pack: PackID
    public let salt: [UInt8]
    public let entry: PackEntry
}

/// The index of every blob in the repository.
///
/// Each blob is a 48-byte record (32-byte ID, pack number with the blob type in its top
/// bit, offset, stored length, plaintext length) in a table sorted by ID. The table is
/// either a memory-mapped cache file (`MappedIndexTable`: the records stay on disk and in
/// the page cache, searched within one of 65,536 buckets) or, without a cache folder or
/// for a small repository, anonymous memory that grows without a second copy
/// (`RecordTable`). Blobs of index files newer than the mapped table, and blobs added
/// during a command, go to a small sorted table in memory and a hash map, folded into that
/// table whenever the map holds an eighth as many. Packs are stored once (about 100 bytes
/// each; the mapped table's packs stay in its file). Thread-safe.
public final class BlobIndex: Sendable {
    struct Record {
        var id: RawID
        var packAndType: UInt32
        var offset: UInt32
        var length: UInt32
        var rawLength: UInt32

        /// The pack number, without the blob type bit.
        var packNumber: UInt32 { packAndType & ~BlobIndex.treeFlag }
    }

    struct Pack {
        var id: PackID
        var salt: [UInt8]
        var size: Int
    }

    struct State {
        /// The mapped table, when there is one: it owns pack numbers `0..<table.packCount`.
        var table: MappedIndexTable?
        /// Packs of the mapped table whose records `remove(packs:)` forgot, and how many records that was.
        var removedTablePacks: Set<UInt32> = []
        var removedTableRecords = 0
        var sorted = RecordTable<Record>()
        var added: [BlobID: Record] = [:]
        /// Packs not in the mapped table: pack number `tablePacks + i` is `packs[i]`.
        var packs: [Pack] = []
        var packNumbers: [PackID: UInt32] = [:]
        /// Every pack `exclude(condemned:)` was given: forgotten again whenever the index is
        /// loaded anew (a reader's reload after a prune), so that a backup never comes to
        /// deduplicate against a condemned pack it had set aside.
        var excluded: Set<PackID> = []

        var tablePacks: Int { table?.packCount ?? 0 }
    }

    private let state = Mutex(State())
    static let treeFlag: UInt32 = 1 << 31

    public init() {}

    /// Bytes per indexed blob in the sorted table (in memory, or on disk when mapped).
    public static var bytesPerBlob: Int { MemoryLayout<Record>.stride }

    /// Replaces the contents with the packs of `files` (all index files that are not superseded), in memory.
    public func load(_ files: [IndexFile]) {
        var fresh = State()
        fresh.sorted.reserve(files.reduce(0) { $0 + $1.packs.reduce(0) { $0 + $1.entries.count } })
        Self.append(files, to: &fresh)
        state.withLock { s in
            fresh.excluded = s.excluded
            Self.forget(s.excluded, in: &fresh)
            s = fresh
        }
    }

    /// Replaces the contents with a mapped table and the packs of `extra` (live index files
    /// newer than the table), whose blobs the table does not already hold.
    func load(table: MappedIndexTable, extra: [IndexFile]) {
        var fresh = State()
        fresh.table = table
        Self.append(extra, to: &fresh)
        state.withLock { s in
            fresh.excluded = s.excluded
            Self.forget(s.excluded, in: &fresh)
            s = fresh
        }
    }

    /// Appends the records of `files` that the mapped table does not hold, then sorts and
    /// keeps one record per ID (a blob may be named by several index files: a pack indexed
    /// twice, or a blob stored again after a crash).
    private static func append(_ files: [IndexFile], to s: inout State) {
        for file in files {
            for pack in file.packs {
                let number = register(pack, in: &s)
                for e in pack.entries where s.table?.find(e.id.raw) == nil { s.sorted.append(record(e, pack: number)) }
            }
        }
        s.sorted.sortAndDeduplicate(by: { $0.id < $1.id }, dropping: { $0.id == $1.id })
    }

    /// Adds the blobs of a pack that was just uploaded.
    public func add(_ pack: IndexedPack) {
        state.withLock { s in
            let number = Self.register(pack, in: &s)
            for e in pack.entries where Self.findIndexed(e.id.raw, in: s) == nil {
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
    /// The mapped table is not rewritten: its forgotten packs are skipped on every lookup.
    public func remove(packs: Set<PackID>) {
        guard !packs.isEmpty else { return }
        state.withLock { s in Self.forget(packs, in: &s) }
    }

    /// Like `remove(packs:)` for packs a prune condemned, which stay forgotten when the
    /// index is loaded again: a backup (or copy, import, rewrite) must never deduplicate
    /// against them, and a reload after a pack went missing (`Repository.relocate`) would
    /// otherwise bring them back.
    public func exclude(condemned packs: Set<PackID>) {
        guard !packs.isEmpty else { return }
        state.withLock { s in
            s.excluded.formUnion(packs)
            Self.forget(packs, in: &s)
        }
    }

    /// Forgets the records of `packs` in `s`.
    private static func forget(_ packs: Set<PackID>, in s: inout State) {
        let numbers = Set(packs.compactMap { packNumber(of: $0, in: s) })
        guard !numbers.isEmpty else { return }
        if let table = s.table {
            for n in numbers where Int(n) < table.packCount && s.removedTablePacks.insert(n).inserted {
                s.removedTableRecords += table.packRow(Int(n)).records
            }
        }
        let inRemoved = { (r: Record) in numbers.contains(r.packNumber) }
        s.sorted.removeAll(where: inRemoved)
        s.added = s.added.filter { !inRemoved($0.value) }
    }

    /// The pack that held `id` in the mapped table before `remove(packs:)` forgot that pack;
    /// `nil` for any other blob (records held in memory are gone once removed).
    public func removedPack(of id: BlobID) -> PackID? {
        state.withLock { s in
            guard let r = s.table?.find(id.raw), s.removedTablePacks.contains(r.packNumber) else { return nil }
            return Self.pack(Int(r.packNumber), in: s).id
        }
    }

    /// Whether any pack holds the blob.
    public func contains(_ id: BlobID) -> Bool {
        let (held, table, removed) = state.withLock { s in
            (Self.held(id, in: s), s.table, s.removedTablePacks)
        }
        if held != nil { return true }
        return table.flatMap { Self.search($0, id.raw, skipping: removed) } != nil
    }

    /// The blob's location, or `nil` when no index names it.
    ///
    /// Like `contains`, it searches what is held in memory under the lock and the mapped
    /// table after it: the table is immutable and safe to search from several threads, and
    /// at scale each search is a `pread`, which a backup's readers would otherwise make one
    /// at a time. A record and its pack come from one state: memory's under the lock, the
    /// table's from the table itself (it owns its pack numbers).
    public func lookup(_ id: BlobID) -> BlobLocation? {
        let (held, table, removed) = state.withLock { s -> (BlobLocation?, MappedIndexTable?, Set<UInt32>) in
            let location = Self.held(id, in: s).map { r in
                let pack = Self.pack(Int(r.packNumber), in: s)
                return BlobLocation(pack: pack.id, salt: pack.salt, entry: Self.entry(r))
            }
            return (location, s.table, s.removedTablePacks)
        }
        if let held { return held }
        guard let table, let r = Self.search(table, id.raw, skipping: removed) else { return nil }
        let row = table.packRow(Int(r.packNumber))
        return BlobLocation(pack: row.id, salt: row.salt, entry: Self.entry(r))
    }

    /// Every indexed pack with its size.
    public var packs: [(id: PackID, size: Int)] {
        state.withLock { s in
            var all: [(id: PackID, size: Int)] = []
            all.reserveCapacity(s.tablePacks + s.packs.count)
            if let table = s.table {
                for n in 0..<table.packCount { let row = table.packRow(n); all.append((row.id, row.size)) }
            }
            return all + s.packs.map { ($0.id, $0.size) }
        }
    }

    /// Calls `body` with the entry of every indexed blob, once each, without building a list.
    ///
    /// Holds the index's lock for the whole walk: `body` must not call into the index.
    public func forEachEntry(_ body: (PackEntry) -> Void) {
        state.withLock { s in Self.forEachRecord(in: s) { body(Self.entry($0)) } }
    }

    /// The indexed blobs whose hex ID starts with `prefix` (any case), in ID order; empty when
    /// `prefix` is not hex or longer than an ID. Walks the index without listing every ID.
    public func blobIDs(withHexPrefix prefix: String) -> [BlobID] {
        guard let range = Self.idRange(hexPrefix: prefix) else { return [] }
        var found: [BlobID] = []
        state.withLock { s in
            Self.forEachRecord(in: s) { r in if range.contains(r.id) { found.append(BlobID(raw: r.id)) } }
        }
        return found.sorted()
    }

    /// The indexed blobs whose record places them in one of `packs`.
    public func blobIDs(inPacks packs: Set<PackID>) -> [BlobID] {
        state.withLock { s in
            let numbers = Set(packs.compactMap { Self.packNumber(of: $0, in: s) })
            var found: [BlobID] = []
            Self.forEachRecord(in: s) { r in if numbers.contains(r.packNumber) { found.append(BlobID(raw: r.id)) } }
            return found
        }
    }

    /// The IDs of every indexed blob, as one array (32 bytes a blob: for tests and small
    /// repositories; commands use `forEachEntry` or `blobIDs(withHexPrefix:)`).
    public func allBlobIDs() -> [BlobID] {
        state.withLock { s in
            var ids: [BlobID] = []
            ids.reserveCapacity(Self.count(s))
            if let table = s.table {
                let removed = s.removedTablePacks
                table.forEach { r in if removed.isEmpty || !removed.contains(r.packNumber) { ids.append(BlobID(raw: r.id)) } }
            }
            s.sorted.forEach { ids.append(BlobID(raw: $0.id)) }
            return ids + s.added.keys
        }
    }

    /// The size of an indexed pack, if the index names it.
    public func packSize(_ id: PackID) -> Int? {
        state.withLock { s in Self.packNumber(of: id, in: s).map { Self.pack(Int($0), in: s).size } }
    }

    /// The number of distinct blobs indexed.
    public var count: Int { state.withLock { Self.count($0) } }

    /// The mapped table, if any (its record numbers name blobs for `IndexedBlobSet`).
    var mappedTable: MappedIndexTable? { state.withLock { $0.table } }

    /// Whether the sorted part is a memory-mapped table file.
    public var isMapped: Bool { state.withLock { $0.table != nil } }

    private static func count(_ s: State) -> Int {
        (s.table.map { $0.recordCount } ?? 0) - s.removedTableRecords + s.sorted.count + s.added.count
    }

    private static func register(_ pack: IndexedPack, in s: inout State) -> UInt32 {
        if let n = packNumber(of: pack.id, in: s) { return n }
        let n = UInt32(s.tablePacks + s.packs.count)
        s.packs.append(Pack(id: pack.id, salt: pack.salt, size: pack.size))
        s.packNumbers[pack.id] = n
        return n
    }

    private static func packNumber(of id: PackID, in s: State) -> UInt32? {
        s.table?.packNumber(of: id) ?? s.packNumbers[id]
    }

    private static func pack(_ n: Int, in s: State) -> Pack {
        if let table = s.table, n < table.packCount {
            let row = table.packRow(n)
            return Pack(id: row.id, salt: row.salt, size: row.size)
        }
        return s.packs[n - s.tablePacks]
    }

    static func record(_ e: PackEntry, pack: UInt32) -> Record {
        Record(id: e.id.raw, packAndType: pack | (e.type == .tree ? treeFlag : 0),
               offset: e.offset, length: e.length, rawLength: e.rawLength)
    }

    /// Calls `body` with every record: the mapped table's (less forgotten packs), the sorted
    /// table's, then the added ones. No ID is in two of them.
    private static func forEachRecord(in s: State, _ body: (Record) -> Void) {
        if let table = s.table {
            let removed = s.removedTablePacks
            table.forEach { r in if removed.isEmpty || !removed.contains(r.packNumber) { body(r) } }
        }
        s.sorted.forEach(body)
        for r in s.added.values { body(r) }
    }

    private static func entry(_ r: Record) -> PackEntry {
        PackEntry(type: r.packAndType & treeFlag != 0 ? .tree : .data, id: BlobID(raw: r.id),
                  offset: r.offset, length: r.length, rawLength: r.rawLength)
    }

    /// The IDs that start with `hexPrefix`, as a closed range (`nil` when it is not hex or too long).
    static func idRange(hexPrefix: String) -> ClosedRange<RawID>? {
        let digits = hexPrefix.lowercased()
        guard digits.count <= 2 * RawID.byteCount, digits.allSatisfy(\.isHexDigit),
              let low = RawID(hex: digits.padding(toLength: 2 * RawID.byteCount, withPad: "0", startingAt: 0)),
              let high = RawID(hex: digits.padding(toLength: 2 * RawID.byteCount, withPad: "f", startingAt: 0)) else { return nil }
        return low...high
    }

    /// The record in the mapped or in-memory sorted table (not the added map).
    private static func findIndexed(_ id: RawID, in s: State) -> Record? {
        s.table.flatMap { search($0, id, skipping: s.removedTablePacks) } ?? findInMemory(id, in: s)
    }

    /// The record of `id` in the mapped `table`, unless it is in one of the `removed` packs
    /// (`remove(packs:)`). Records held in memory never name a blob the table holds in a
    /// pack not removed (`append` and `add` skip those), so the two are searched apart.
    private static func search(_ table: MappedIndexTable, _ id: RawID, skipping removed: Set<UInt32>) -> Record? {
        guard let r = table.find(id), removed.isEmpty || !removed.contains(r.packNumber) else { return nil }
        return r
    }

    /// The record of `id` held in memory: in the sorted table or among the records added
    /// since (not in the mapped table, which is searched outside the lock).
    private static func held(_ id: BlobID, in s: State) -> Record? {
        findInMemory(id.raw, in: s) ?? s.added[id]
    }

    /// The record of `id` in the sorted table held in memory (not the mapped table, nor `added`).
    private static func findInMemory(_ id: RawID, in s: State) -> Record? {
        let low = s.sorted.partitionPoint { $0.id < id }
        return low < s.sorted.count && s.sorted[low].id == id ? s.sorted[low] : nil
    }
}
