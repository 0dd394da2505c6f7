import XCTest
import Synchronization
import Foundation
import SnapCore
import SnapTestSupport
@testable import SnapRepository

/// The same `BlobIndex` assertions on both backings: a table in memory and a mapped table file.
final class BlobIndexBackingTests: XCTestCase {
    private var folder: TemporaryDirectory!

    override func setUpWithError() throws { folder = try TemporaryDirectory(prefix: "snap-index-backing") }
    override func tearDown() { folder.remove() }

    private func pack(_ seed: UInt64, first: UInt64, count: Int, type: BlobType = .data) -> IndexedPack {
        SyntheticIndex.pack(seed, firstSeed: first, count: count, type: type)
    }

    // Thousands of entries from several files: every lookup returns its exact pack, salt and
    // entry; absent IDs (including the smallest and largest) are not found.
    func testLoadAndLookup() throws {
        for backing in IndexBacking.allCases {
            var files: [IndexFile] = []
            var expected: [BlobID: (IndexedPack, PackEntry)] = [:]
            for f in 0..<3 {
                let packs = (0..<10).map { p in pack(1_000_000 + UInt64(f * 10 + p) * 2, first: UInt64(f * 10 + p) * 1000, count: 300) }
                for p in packs { for e in p.entries { expected[e.id] = (p, e) } }
                files.append(IndexFile(packs: packs))
            }
            let index = try backing.index(files, folder: folder)
            XCTAssertEqual(index.isMapped, backing == .mapped)
            XCTAssertEqual(index.count, 9000, "\(backing)")
            XCTAssertEqual(index.packs.count, 30, "\(backing)")
            XCTAssertEqual(Set(index.allBlobIDs()), Set(expected.keys), "\(backing)")
            XCTAssertEqual(index.allBlobIDs().count, 9000, "\(backing)")
            var mismatches = 0
            for (id, (p, entry)) in expected {
                guard let location = index.lookup(id) else { mismatches += 1; continue }
                if location.pack != p.id || location.salt != p.salt || location.entry != entry { mismatches += 1 }
            }
            XCTAssertEqual(mismatches, 0, "\(backing)")
            for p in files.flatMap(\.packs) { XCTAssertEqual(index.packSize(p.id), p.size, "\(backing)") }
            XCTAssertNil(index.packSize(PackID(raw: SyntheticIndex.rawID(5))))
            for seed in UInt64(50_000_000)..<50_000_300 { XCTAssertFalse(index.contains(BlobID(raw: SyntheticIndex.rawID(seed))), "\(backing)") }
            XCTAssertFalse(index.contains(BlobID(raw: RawID(w0: 0, w1: 0, w2: 0, w3: 0))))
            XCTAssertFalse(index.contains(BlobID(raw: RawID(w0: .max, w1: .max, w2: .max, w3: .max))))
        }
    }

    // add() after load: new blobs are found, loaded ones keep their location, a reload drops the added ones.
    func testAddAfterLoad() throws {
        for backing in IndexBacking.allCases {
            let loaded = pack(1, first: 100, count: 50)
            let added = pack(3, first: 200, count: 20)
            let overlapping = pack(5, first: 140, count: 20)
            let index = try backing.index([IndexFile(packs: [loaded])], folder: folder)
            index.add(added)
            index.add(overlapping)
            index.add(loaded)  // a pack the table already holds is not registered twice
            XCTAssertEqual(index.count, 50 + 20 + 10, "\(backing)")
            for e in added.entries { XCTAssertEqual(index.lookup(e.id)?.entry, e, "\(backing)") }
            for e in overlapping.entries {
                let owner = loaded.entries.contains { $0.id == e.id } ? loaded.id : overlapping.id
                XCTAssertEqual(index.lookup(e.id)?.pack, owner, "\(backing)")
            }
            XCTAssertEqual(Set(index.packs.map(\.id)), [loaded.id, added.id, overlapping.id], "\(backing)")
            XCTAssertEqual(index.packs.count, 3, "\(backing)")
            try backing.load(index, [IndexFile(packs: [loaded])], folder: folder)
            XCTAssertEqual(index.count, 50, "\(backing)")
            XCTAssertFalse(added.entries.contains { index.contains($0.id) }, "\(backing)")
        }
    }

    // Many adds are folded into the sorted part as they go and all stay findable.
    func testManyAdds() throws {
        for backing in IndexBacking.allCases {
            let loaded = pack(1, first: 10_000_000, count: 1000)
            let index = try backing.index([IndexFile(packs: [loaded])], folder: folder)
            var packs: [IndexedPack] = []
            for p in 0..<20 {
                let added = pack(UInt64(100 + 2 * p), first: UInt64(p * 1000), count: 1000)
                index.add(added)
                packs.append(added)
            }
            index.add(pack(99, first: 500, count: 1000))
            XCTAssertEqual(index.count, 21_000, "\(backing)")
            var mismatches = 0
            for p in [loaded] + packs {
                for e in p.entries where index.lookup(e.id)?.pack != p.id || index.lookup(e.id)?.entry != e { mismatches += 1 }
            }
            XCTAssertEqual(mismatches, 0, "\(backing)")
            XCTAssertEqual(Set(index.allBlobIDs()).count, 21_000, "\(backing)")
        }
    }

    // A blob named by two index files is one blob; the same pack twice is one pack.
    func testDuplicatesCountOnce() throws {
        for backing in IndexBacking.allCases {
            let first = pack(1, first: 10, count: 5)
            var second = pack(3, first: 13, count: 5)
            second.entries[0].offset = 7
            let index = try backing.index([IndexFile(packs: [first]), IndexFile(packs: [second]), IndexFile(packs: [first])],
                                          folder: folder)
            XCTAssertEqual(index.count, 8, "\(backing)")
            XCTAssertEqual(index.allBlobIDs().count, 8, "\(backing)")
            XCTAssertEqual(index.packs.count, 2, "\(backing)")
            for e in first.entries + second.entries { XCTAssertNotNil(index.lookup(e.id), "\(backing)") }
        }
    }

    // remove(packs:) forgets their records (count, lookup, allBlobIDs); the blobs can be added again elsewhere.
    func testRemovePacks() throws {
        for backing in IndexBacking.allCases {
            let kept = pack(1, first: 100, count: 30)
            let condemned = pack(3, first: 200, count: 40)
            let index = try backing.index([IndexFile(packs: [kept, condemned])], folder: folder)
            let added = pack(5, first: 300, count: 10)
            index.add(added)
            index.remove(packs: [condemned.id, added.id, PackID(raw: SyntheticIndex.rawID(77))])
            index.remove(packs: [condemned.id])  // twice: counted once
            XCTAssertEqual(index.count, 30, "\(backing)")
            XCTAssertFalse(condemned.entries.contains { index.contains($0.id) }, "\(backing)")
            XCTAssertFalse(added.entries.contains { index.contains($0.id) }, "\(backing)")
            XCTAssertEqual(Set(index.allBlobIDs()), Set(kept.entries.map(\.id)), "\(backing)")
            let again = pack(7, first: 200, count: 40)  // the condemned blobs stored again
            index.add(again)
            XCTAssertEqual(index.count, 70, "\(backing)")
            XCTAssertEqual(index.lookup(condemned.entries[3].id)?.pack, again.id, "\(backing)")
        }
    }

    // Lookups from several threads (the mapped table is searched outside the index's lock)
    // while other threads add packs and reload the index with the packs in another order,
    // which numbers them differently: every lookup gets its blob's own pack and entry.
    func testLookupsFromManyThreadsWhileTheIndexChanges() throws {
        for backing in IndexBacking.allCases {
            let base = pack(1, first: 1000, count: 500)
            let other = pack(3, first: 5000, count: 500)
            let index = try backing.index([IndexFile(packs: [base, other])], folder: folder)
            let mismatches = Atomic<Int>(0)
            let changing = Atomic<Bool>(true)
            let folder = self.folder!
            let extras = (0..<20).map { round in pack(100 + UInt64(round) * 2, first: 100_000 + UInt64(round) * 1000, count: 50) }
            DispatchQueue.concurrentPerform(iterations: 5) { worker in
                if worker == 0 {
                    for round in 0..<20 {
                        index.add(extras[round])
                        let order = round % 2 == 0 ? [other, base] : [base, other]
                        try? backing.load(index, [IndexFile(packs: order)], folder: folder)
                    }
                    changing.store(false, ordering: .releasing)
                    return
                }
                var i = worker
                repeat {
                    let e = base.entries[i % base.entries.count]
                    let found = index.lookup(e.id)
                    if found?.pack != base.id || found?.entry != e || !index.contains(e.id) {
                        mismatches.add(1, ordering: .relaxed)
                    }
                    if index.contains(BlobID(raw: SyntheticIndex.rawID(90_000_000 + UInt64(i)))) { mismatches.add(1, ordering: .relaxed) }
                    i += 7
                } while changing.load(ordering: .acquiring) || i < 2000
            }
            XCTAssertEqual(mismatches.load(ordering: .relaxed), 0, "\(backing)")
        }
    }
}

/// Walking the index without listing it: entries, ID prefixes and blobs by pack.
final class BlobIndexScanTests: XCTestCase {
    private var folder: TemporaryDirectory!

    override func setUpWithError() throws { folder = try TemporaryDirectory(prefix: "snap-index-scan") }
    override func tearDown() { folder.remove() }

    // forEachEntry visits what allBlobIDs lists, with lookup's entries, including added and
    // not forgotten blobs; prefix and pack queries agree with filtering allBlobIDs.
    func testScansAgreeWithAllBlobIDs() throws {
        for backing in IndexBacking.allCases {
            let packs = (0..<6).map { SyntheticIndex.pack(10 + UInt64($0) * 2, firstSeed: UInt64($0) * 500, count: 400) }
            let index = try backing.index([IndexFile(packs: Array(packs[0..<5]))], folder: folder)
            index.add(packs[5])
            index.remove(packs: [packs[1].id])
            let all = index.allBlobIDs()
            var entries: [BlobID: PackEntry] = [:]
            index.forEachEntry { entries[$0.id] = $0 }
            XCTAssertEqual(Set(entries.keys), Set(all), "\(backing)")
            XCTAssertEqual(entries.count, all.count, "\(backing)")
            XCTAssertTrue(all.allSatisfy { index.lookup($0)?.entry == entries[$0] }, "\(backing)")
            for prefix in ["", "0", "a", "7F", "e3c", all[17].hex.prefix(5).description, all[3].hex] {
                XCTAssertEqual(index.blobIDs(withHexPrefix: prefix), all.filter { $0.hex.hasPrefix(prefix.lowercased()) }.sorted(),
                               "\(backing) \(prefix)")
            }
            XCTAssertEqual(index.blobIDs(withHexPrefix: "xyz"), [], "\(backing)")
            XCTAssertEqual(index.blobIDs(withHexPrefix: all[0].hex + "0"), [], "\(backing)")
            let wanted: Set<PackID> = [packs[2].id, packs[5].id, packs[1].id]
            XCTAssertEqual(Set(index.blobIDs(inPacks: wanted)), Set(packs[2].entries.map(\.id) + packs[5].entries.map(\.id)),
                           "\(backing)")
        }
    }
}
