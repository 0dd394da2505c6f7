import XCTest
#if canImport(Glibc)
import Glibc
#endif
import SnapCore
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

final class MappedIndexTableTests: XCTestCase {
    private var folder: TemporaryDirectory!

    override func setUpWithError() throws { folder = try TemporaryDirectory(prefix: "snap-index-table") }
    override func tearDown() { folder.remove() }

    private func files(_ count: Int, packsEach: Int = 4, blobsEach: Int = 250) -> [IndexFile] {
        (0..<count).map { f in
            IndexFile(packs: (0..<packsEach).map { p in
                let n = UInt64(f * packsEach + p)
                return SyntheticIndex.pack(7_000_000 + n, firstSeed: n * 10_000, count: blobsEach)
            })
        }
    }

    // Written with spilled runs and mapped back: every record, pack and file is there; IDs
    // absent from empty and from full buckets are not found; no run files are left behind.
    func testRoundTrip() throws {
        let input = files(5)
        let table = try SyntheticIndex.table(input, in: folder.path, runLimit: 333)
        XCTAssertEqual(table.recordCount, 5000)
        XCTAssertEqual(table.packCount, 20)
        XCTAssertEqual(table.files.count, 5)
        XCTAssertEqual(table.liveFiles.count, 5)
        for pack in input.flatMap(\.packs) {
            let number = try XCTUnwrap(table.packNumber(of: pack.id))
            let row = table.packRow(Int(number))
            XCTAssertEqual(row.id, pack.id)
            XCTAssertEqual(row.salt, pack.salt)
            XCTAssertEqual(row.size, pack.size)
            XCTAssertEqual(row.records, pack.entries.count)
            for e in pack.entries {
                let r = try XCTUnwrap(table.find(e.id.raw))
                XCTAssertEqual(r.packNumber, number)
                XCTAssertEqual(r.packAndType & BlobIndex.treeFlag != 0, e.type == .tree)
                XCTAssertEqual([r.offset, r.length, r.rawLength], [e.offset, e.length, e.rawLength])
            }
        }
        // With 5,000 records most of the 65,536 buckets are empty; a present ID's neighbours share its bucket.
        for seed in UInt64(1)..<200 { XCTAssertNil(table.find(SyntheticIndex.rawID(seed + 90_000_000))) }
        for pack in input.flatMap(\.packs).prefix(2) {
            for e in pack.entries.prefix(20) {
                var near = e.id.raw
                near.w3 ^= 1
                XCTAssertNil(table.find(near), "a neighbour in a full bucket")
            }
        }
        var seen = 0
        var previous: RawID?
        XCTAssertTrue(table.forEach { r in
            if let previous { XCTAssertLessThan(previous, r.id) }
            previous = r.id
            seen += 1
        })
        XCTAssertEqual(seen, 5000)
        XCTAssertFalse(table.isDamaged)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(left, ["table"], "no run or temporary files left")
    }

    // The filter of a bucket as full as at 20 M blobs (300 records) lets through every
    // present ID and about 2.4 % of absent ones (8 bits a record, 4 probes), not many more.
    func testFilterBitsKeepPresentIDsAndTurnAwayMostAbsentOnes() {
        let present = (0..<300).map { SyntheticIndex.rawID(UInt64(5_000_000 + $0)) }
        let words = IndexTableFormat.filterWords(records: present.count)
        var filter = [UInt64](repeating: 0, count: words)
        for id in present { IndexTableFormat.filterBits(of: id, words: words) { filter[$0 / 64] |= 1 << UInt64($0 % 64); return true } }
        var probes = 0
        func passes(_ id: RawID) -> Bool {
            var all = true
            IndexTableFormat.filterBits(of: id, words: words) {
                probes += 1
                all = filter[$0 / 64] & (1 << UInt64($0 % 64)) != 0
                return all
            }
            return all
        }
        XCTAssertTrue(present.allSatisfy(passes))
        XCTAssertEqual(probes, present.count * IndexTableFormat.filterProbes)
        probes = 0
        let passed = (0..<100_000).filter { passes(SyntheticIndex.rawID(UInt64(80_000_000 + $0))) }.count
        XCTAssertGreaterThan(passed, 1_000, "about 2,400 of 100,000 absent IDs pass")
        XCTAssertLessThan(passed, 4_000, "about 2,400 of 100,000 absent IDs pass")
        // Probing stops at the first clear bit: with about 40 % of the bits set, an absent ID
        // takes 1.6 probes on average rather than 4.
        XCTAssertLessThan(probes, 200_000)
    }

    // In a written table the filter lets every present ID through, turns away absent ones,
    // and is covered by the checksum: a flipped filter bit rejects the file at open.
    func testTableFilterIsCheckedAndAnswersAbsentIDs() throws {
        let input = files(40)  // 40,000 records
        let table = try SyntheticIndex.table(input, in: folder.path)
        for e in input.flatMap(\.packs).flatMap(\.entries) { XCTAssertTrue(table.mayContain(e.id.raw)) }
        let passed = (0..<20_000).filter { table.mayContain(SyntheticIndex.rawID(UInt64(70_000_000 + $0))) }.count
        XCTAssertLessThan(passed, 400, "absent IDs are turned away by the filter (with under one record a bucket, almost all)")

        var bytes = try Data(contentsOf: URL(fileURLWithPath: table.path))
        bytes[bytes.count - 3] ^= 0x04  // the last filter word
        try bytes.write(to: URL(fileURLWithPath: table.path))
        XCTAssertThrowsError(try MappedIndexTable(path: table.path))
    }

    // An empty table is a valid table.
    func testEmptyTable() throws {
        let table = try SyntheticIndex.table([], in: folder.path)
        XCTAssertEqual(table.recordCount, 0)
        XCTAssertNil(table.find(SyntheticIndex.rawID(1)))
        XCTAssertNil(table.packNumber(of: PackID(raw: SyntheticIndex.rawID(1))))
    }

    // Records of superseded files are dropped; a blob in both a live and a superseded file keeps the live location.
    func testSupersededFilesAreLeftOut() throws {
        let old = SyntheticIndex.pack(1, firstSeed: 100, count: 30)
        let moved = SyntheticIndex.pack(3, firstSeed: 100, count: 10)  // ten of old's blobs, in another pack
        let builder = IndexTableBuilder(folder: folder.path, runLimit: 7)
        let oldID = IndexID(raw: SyntheticIndex.rawID(11)), newID = IndexID(raw: SyntheticIndex.rawID(12))
        try builder.add(IndexFile(packs: [old]), id: oldID)
        try builder.add(IndexFile(supersedes: [oldID], packs: [moved]), id: newID)
        try builder.finish(path: folder.appending("table"), live: [newID])
        let table = try MappedIndexTable(path: folder.appending("table"))
        XCTAssertEqual(table.recordCount, 10)
        XCTAssertEqual(table.packCount, 1)
        XCTAssertEqual(table.liveFiles, [newID])
        XCTAssertEqual(Set(table.files), [oldID, newID])
        for e in moved.entries { XCTAssertEqual(table.find(e.id.raw)?.packNumber, 0) }
        XCTAssertNil(table.find(old.entries[20].id.raw))
    }

    // A truncated file, one with a garbled header or pack table, and an empty file are rejected.
    func testMalformedFilesAreRejected() throws {
        let path = folder.appending("table")
        let original = try Data(contentsOf: URL(fileURLWithPath: try SyntheticIndex.table(files(2), in: folder.path).path))
        var variants: [(String, Data)] = [("empty", Data()), ("truncated", original.prefix(original.count - 1)),
                                          ("header only", original.prefix(IndexTableFormat.recordsOffset)),
                                          ("extended", original + Data([0]))]
        for offset in [0, 9, 17, 40, 60, 200, IndexTableFormat.sumsOffset + 8, original.count - 70, original.count - 1] {
            var garbled = original
            garbled[offset] ^= 0x10
            variants.append(("byte \(offset)", garbled))
        }
        for (name, bytes) in variants {
            try bytes.write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try MappedIndexTable(path: path), name)
        }
        XCTAssertThrowsError(try MappedIndexTable(path: folder.appending("missing")))
        // A fifo in its place is refused at once: opening it must not wait for a writer.
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        XCTAssertThrowsError(try MappedIndexTable(path: path), "fifo")
    }

    // A damaged record is found when its bucket is first searched: the bucket reads as empty,
    // the rest of the table still works, and the file is deleted so that it is rebuilt.
    func testDamagedRecordsAreNotTrusted() throws {
        let input = files(1, packsEach: 1, blobsEach: 100)
        let path = try SyntheticIndex.table(input, in: folder.path).path
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[IndexTableFormat.recordsOffset + 5 * IndexTableFormat.recordSize + 35] ^= 0x01  // record 5's pack number
        try bytes.write(to: URL(fileURLWithPath: path))
        let table = try MappedIndexTable(path: path)
        let sorted = input[0].packs[0].entries.map(\.id.raw).sorted()
        XCTAssertNil(table.find(sorted[5]))
        XCTAssertTrue(table.isDamaged)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertNotNil(table.find(sorted[50]), "other buckets are sound")
        XCTAssertFalse(table.forEach { _ in })
    }

    // A table larger than its resident budget is searched with `pread` around each ID's
    // expected place: the same records and positions as the mapped search, for IDs that lie
    // inside the first window read and for those outside it (2,000 IDs in one bucket, so
    // many lie beyond the 32 records read first and some beyond the 64 read next to them;
    // 2,000 more in a bucket whose IDs all sit in its first 256th, so that the guess is far
    // off and the whole bucket is read), and nothing for absent IDs.
    func testSearchesByReadFindWhatTheMappingFinds() throws {
        // SplitMix64: IDs as evenly spread as hashes (an LCG's put every ID about 16 records
        // below its expected place, so the reads below the first window went untested).
        var generator = SplitMix64(seed: 99)
        func next() -> UInt64 { generator.next() }
        let spread = (0..<2000).map { _ in RawID(w0: (0x1234 << 48) | (next() >> 16), w1: next(), w2: next(), w3: next()) }
        let skewed = (0..<2000).map { _ in RawID(w0: (0x5678 << 48) | (next() >> 24), w1: next(), w2: next(), w3: next()) }
        let crowded = (spread + skewed).enumerated().map { n, id in
            PackEntry(type: .data, id: BlobID(raw: id), offset: UInt32(n * 10), length: 10, rawLength: 12)
        }
        let packs = [IndexedPack(id: PackID(raw: SyntheticIndex.rawID(5)), salt: seededBytes(count: 24, seed: 6), size: 40_000, entries: crowded)]
            + files(2).flatMap(\.packs)
        let mapped = try SyntheticIndex.table([IndexFile(packs: packs)], in: folder.path)
        let read = try MappedIndexTable(path: mapped.path, residentBudget: 1)
        for e in packs.flatMap(\.entries) {
            let position = try XCTUnwrap(read.position(of: e.id.raw), "\(e.id)")
            XCTAssertEqual(position, mapped.position(of: e.id.raw))
            let r = try XCTUnwrap(read.find(e.id.raw))
            XCTAssertEqual(r.id, e.id.raw)
            XCTAssertEqual([r.offset, r.length, r.rawLength], [e.offset, e.length, e.rawLength])
        }
        for e in crowded.prefix(300) + crowded.suffix(300) {
            var absent = e.id.raw
            absent.w3 ^= 1
            XCTAssertNil(read.find(absent), "a neighbour in the crowded bucket")
        }
        for seed in UInt64(1)..<200 { XCTAssertNil(read.find(SyntheticIndex.rawID(seed + 90_000_000))) }
        // Absent IDs in the crowded buckets: the few that pass the filter land in every gap,
        // those between two windows read one after the other included.
        let present = Set(crowded.map(\.id.raw))
        var absentFound = 0
        for n in 0..<200_000 {
            let top: UInt64 = n % 2 == 0 ? (0x1234 << 48) | (next() >> 16) : (0x5678 << 48) | (next() >> 24)
            let id = RawID(w0: top, w1: next(), w2: next(), w3: next())
            if !present.contains(id), read.find(id) != nil { absentFound += 1 }
        }
        XCTAssertEqual(absentFound, 0)
        XCTAssertFalse(read.isDamaged)
    }

    // A table whose records fit the budget is searched through the mapping without giving
    // its pages back: each 64 KiB window counts once, however many buckets share it (here
    // about 20). Counted once per bucket, the windows added up to the budget long before
    // the table had been searched, and the pages were given back and faulted in again.
    func testSearchesWithinTheBudgetKeepThePages() throws {
        let input = files(4, packsEach: 5, blobsEach: 1_000)
        let path = try SyntheticIndex.table(input, in: folder.path).path
        let records = 20_000 * IndexTableFormat.recordSize
        let table = try MappedIndexTable(path: path, residentBudget: records + 2 * (64 << 10))
        for e in input.flatMap(\.packs).flatMap(\.entries) { XCTAssertNotNil(table.find(e.id.raw)) }
        XCTAssertEqual(table.budgetReleases, 0)
        let small = try MappedIndexTable(path: path, residentBudget: records / 2)
        XCTAssertNotNil(small.find(input[0].packs[0].entries[0].id.raw), "searched with pread")
        XCTAssertEqual(small.budgetReleases, 0, "a table over the budget is never mapped for searches")
    }

    // Searched with `pread`, a damaged record is found as it is through the mapping.
    func testDamagedRecordsAreNotTrustedWhenRead() throws {
        let input = files(1, packsEach: 1, blobsEach: 100)
        let path = try SyntheticIndex.table(input, in: folder.path).path
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[IndexTableFormat.recordsOffset + 5 * IndexTableFormat.recordSize + 35] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let table = try MappedIndexTable(path: path, residentBudget: 1)
        let sorted = input[0].packs[0].entries.map(\.id.raw).sorted()
        XCTAssertNil(table.find(sorted[5]))
        XCTAssertTrue(table.isDamaged)
        XCTAssertNotNil(table.find(sorted[50]), "other buckets are sound")
    }
}
