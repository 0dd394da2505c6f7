import XCTest
import SnapCore
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

final class BlobIndexTests: XCTestCase {
    private func rawID(_ seed: UInt64) -> RawID { RawID(bytes: seededBytes(count: 32, seed: seed))! }

    /// An indexed pack with `count` synthetic entries whose IDs come from seeds `firstSeed...`.
    private func syntheticPack(_ packSeed: UInt64, firstSeed: UInt64, count: Int, type: BlobType = .data) -> IndexedPack {
        let entries = (0..<count).map { (n: Int) -> PackEntry in
            let length = UInt32(16 + n % 90)
            return PackEntry(type: type, id: BlobID(raw: rawID(firstSeed + UInt64(n))), offset: UInt32(n * 100),
                             length: length, rawLength: length + UInt32(n))
        }
        return IndexedPack(id: PackID(raw: rawID(packSeed)), salt: seededBytes(count: 24, seed: packSeed + 1),
                           size: count * 100 + 200, entries: entries)
    }

    // Each indexed blob costs exactly 48 bytes: 32-byte ID and four 32-bit fields.
    func testBytesPerBlob() {
        XCTAssertEqual(BlobIndex.bytesPerBlob, 48)
    }

    // After loading thousands of entries from several files, every lookup returns its exact pack, salt and entry.
    func testLoadAndLookupManyEntries() {
        var files: [IndexFile] = []
        var expected: [BlobID: (IndexedPack, PackEntry)] = [:]
        for f in 0..<3 {
            var packs: [IndexedPack] = []
            for p in 0..<10 {
                let number = UInt64(f * 10 + p)
                let pack = syntheticPack(1_000_000 + number * 2, firstSeed: number * 1000, count: 300, type: p % 3 == 0 ? .tree : .data)
                for e in pack.entries { expected[e.id] = (pack, e) }
                packs.append(pack)
            }
            files.append(IndexFile(packs: packs))
        }
        let index = BlobIndex()
        index.load(files)
        XCTAssertEqual(index.count, 9000)
        XCTAssertEqual(index.packs.count, 30)
        XCTAssertEqual(Set(index.allBlobIDs()), Set(expected.keys))
        var mismatches = 0
        for (id, (pack, entry)) in expected {
            guard let location = index.lookup(id) else { mismatches += 1; continue }
            if location.pack != pack.id || location.salt != pack.salt || location.entry != entry { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0)
        XCTAssertNil(index.lookup(BlobID(raw: rawID(999_999_999))))
        XCTAssertFalse(index.contains(BlobID(raw: RawID(w0: 0, w1: 0, w2: 0, w3: 0))))
        XCTAssertFalse(index.contains(BlobID(raw: RawID(w0: .max, w1: .max, w2: .max, w3: .max))))
    }

    // Packs excluded as condemned stay out of the index when it is loaded again (a reload after
    // a pack went missing must not hand a backup the condemned packs back); packs merely
    // removed (check's missing packs) come back with a reload.
    func testExcludedPacksStayOutAcrossReloads() {
        let condemned = syntheticPack(11, firstSeed: 300, count: 10)
        let missing = syntheticPack(13, firstSeed: 400, count: 10)
        let kept = syntheticPack(15, firstSeed: 500, count: 10)
        let files = [IndexFile(packs: [condemned, missing, kept])]
        let index = BlobIndex()
        index.load(files)
        index.exclude(condemned: [condemned.id])
        index.remove(packs: [missing.id])
        XCTAssertNil(index.lookup(condemned.entries[0].id))
        XCTAssertNil(index.lookup(missing.entries[0].id))
        index.load(files)
        XCTAssertNil(index.lookup(condemned.entries[0].id), "still excluded after a reload")
        XCTAssertFalse(condemned.entries.contains { index.contains($0.id) })
        XCTAssertEqual(index.lookup(missing.entries[0].id)?.pack, missing.id, "a removed pack comes back")
        XCTAssertEqual(index.lookup(kept.entries[3].id)?.pack, kept.id)
        index.load(files)
        XCTAssertNil(index.lookup(condemned.entries[0].id), "and after every reload")
    }

    // add() after load makes new blobs findable without moving loaded ones; the next load drops what add() put in.
    func testAddAfterLoad() {
        let loaded = syntheticPack(1, firstSeed: 100, count: 50)
        let added = syntheticPack(3, firstSeed: 200, count: 20)
        let overlapping = syntheticPack(5, firstSeed: 140, count: 20)  // seeds 140..<160: ten already loaded
        let index = BlobIndex()
        index.load([IndexFile(packs: [loaded])])
        index.add(added)
        index.add(overlapping)
        XCTAssertEqual(index.count, 50 + 20 + 10)
        for e in added.entries { XCTAssertEqual(index.lookup(e.id)?.entry, e) }
        for e in overlapping.entries {
            let owner = loaded.entries.contains { $0.id == e.id } ? loaded.id : overlapping.id
            XCTAssertEqual(index.lookup(e.id)?.pack, owner, "a loaded blob keeps its loaded location")
        }
        XCTAssertEqual(Set(index.packs.map(\.id)), [loaded.id, added.id, overlapping.id])
        XCTAssertEqual(Set(index.packs.map(\.size)), [loaded.size, added.size, overlapping.size])

        index.load([IndexFile(packs: [loaded])])
        XCTAssertEqual(index.count, 50)
        XCTAssertFalse(added.entries.contains { index.contains($0.id) })
        XCTAssertEqual(index.packs.map(\.id), [loaded.id])
    }

    // Adding many more blobs than the merge threshold (4,096, or an eighth of the table)
    // folds them into the sorted table again and again as it goes: every blob, loaded or added before or after a merge, is still found at
    // its own location, a re-added blob keeps its first location, and the count is exact.
    func testManyAddsAreMergedAndStayFindable() {
        let loaded = syntheticPack(1, firstSeed: 10_000_000, count: 1000)
        let index = BlobIndex()
        index.load([IndexFile(packs: [loaded])])
        var packs: [IndexedPack] = []
        for p in 0..<70 {
            let pack = syntheticPack(UInt64(100 + 2 * p), firstSeed: UInt64(p * 1000), count: 1000)
            index.add(pack)
            packs.append(pack)
        }
        let again = syntheticPack(99, firstSeed: 500, count: 1000)  // seeds 500..<1500: all added before
        index.add(again)
        XCTAssertEqual(index.count, 1000 + 70 * 1000, "the re-added blobs are not counted twice")
        var mismatches = 0
        for pack in [loaded] + packs {
            for e in pack.entries where index.lookup(e.id)?.pack != pack.id || index.lookup(e.id)?.entry != e { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0)
        XCTAssertEqual(Set(index.allBlobIDs()).count, 71_000)
    }

    // A blob named by two index files (say, recovered and then re-uploaded) is one distinct blob.
    func testDuplicateEntriesCountOnce() {
        let first = syntheticPack(1, firstSeed: 10, count: 5)
        var second = syntheticPack(3, firstSeed: 13, count: 5)  // seeds 13..<18: two shared with the first pack
        second.entries[0].offset = 7
        let index = BlobIndex()
        index.load([IndexFile(packs: [first]), IndexFile(packs: [second]), IndexFile(packs: [first])])
        XCTAssertEqual(index.count, 8)
        XCTAssertEqual(index.allBlobIDs().count, 8)
        XCTAssertEqual(Set(index.allBlobIDs()).count, 8)
        XCTAssertEqual(index.packs.count, 2)
        for e in first.entries + second.entries { XCTAssertNotNil(index.lookup(e.id)) }
    }

    // Repository.loadIndex ignores index files that another index file supersedes.
    func testSupersededIndexFilesAreIgnored() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend)
        let old = syntheticPack(1, firstSeed: 100, count: 4)
        let replacement = syntheticPack(3, firstSeed: 200, count: 4)
        let unrelated = syntheticPack(5, firstSeed: 300, count: 4)
        let oldID = IndexID(raw: try repository.saveFile(.index, plaintext: IndexFile(packs: [old]).encoded()))
        let newID = IndexID(raw: try repository.saveFile(.index, plaintext: IndexFile(supersedes: [oldID], packs: [replacement]).encoded()))
        _ = try repository.saveFile(.index, plaintext: IndexFile(packs: [unrelated]).encoded())

        try repository.loadIndex()
        XCTAssertFalse(old.entries.contains { repository.index.contains($0.id) })
        XCTAssertTrue(replacement.entries.allSatisfy { repository.index.contains($0.id) })
        XCTAssertTrue(unrelated.entries.allSatisfy { repository.index.contains($0.id) })
        XCTAssertEqual(Set(repository.index.packs.map(\.id)), [replacement.id, unrelated.id])

        // Without the superseding file, the old one counts again: it was skipped only because it was superseded.
        try backend.delete(FileName(.index, newID.hex))
        try repository.loadIndex()
        XCTAssertTrue(old.entries.allSatisfy { repository.index.contains($0.id) })
        XCTAssertEqual(Set(repository.index.packs.map(\.id)), [old.id, unrelated.id])
    }
}
