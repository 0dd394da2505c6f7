import XCTest
import SnapCore
import SnapTestSupport
@testable import SnapRepository

final class IndexedBlobSetTests: XCTestCase {
    private var folder: TemporaryDirectory!

    override func setUpWithError() throws { folder = try TemporaryDirectory(prefix: "snap-indexed-set") }
    override func tearDown() { folder.remove() }

    private func id(_ seed: UInt64) -> BlobID { BlobID(raw: SyntheticIndex.rawID(seed)) }

    // Random insertions of indexed and unindexed blobs give the same answers as a Set<BlobID>,
    // on both backings; members have distinct positions below positionCount.
    func testMatchesSetOnRandomIDs() throws {
        for backing in IndexBacking.allCases {
            let packs = (0..<4).map { SyntheticIndex.pack(10 + UInt64($0) * 2, firstSeed: UInt64($0) * 1000, count: 1000) }
            let index = try backing.index([IndexFile(packs: packs)], folder: folder)
            var set = IndexedBlobSet(numberingBy: index)
            var expected: Set<BlobID> = []
            var random = SplitMix64(seed: UInt64(backing == .mapped ? 2 : 1))
            for _ in 0..<12_000 {
                let blob = id(UInt64.random(in: 0..<6000, using: &random))  // 4,000 indexed, 2,000 not
                XCTAssertEqual(set.insert(blob), expected.insert(blob).inserted, "\(backing)")
            }
            set.consolidate()
            XCTAssertEqual(set.count, expected.count, "\(backing)")
            XCTAssertTrue((0..<7000 as Range<UInt64>).allSatisfy { set.contains(id($0)) == expected.contains(id($0)) }, "\(backing)")
            XCTAssertEqual(set.filter { _ in true }, expected.sorted(), "\(backing)")
            let positions = expected.compactMap { set.position(of: $0) }
            XCTAssertEqual(positions.count, expected.count, "\(backing)")
            XCTAssertEqual(Set(positions).count, expected.count, "\(backing)")
            XCTAssertTrue(positions.allSatisfy { $0 >= 0 && $0 < set.positionCount }, "\(backing)")
            XCTAssertNil(set.position(of: id(6500)), "\(backing)")
        }
    }

    // After the index maps another table (more blobs, other record numbers), renumber keeps
    // exactly the members, and blobs new to the table are found through it.
    func testRenumberAfterReload() throws {
        let first = SyntheticIndex.pack(1, firstSeed: 0, count: 500)
        let second = SyntheticIndex.pack(3, firstSeed: 500, count: 500)
        let index = try IndexBacking.mapped.index([IndexFile(packs: [first])], folder: folder)
        var set = IndexedBlobSet(numberingBy: index)
        let members = (0..<1000 as Range<UInt64>).filter { $0 % 3 == 0 }.map(id) + [id(5000)]
        for m in members { set.insert(m) }
        try IndexBacking.mapped.load(index, [IndexFile(packs: [second]), IndexFile(packs: [first])], folder: folder)
        set.renumber()
        XCTAssertEqual(set.count, members.count)
        XCTAssertEqual(set.filter { _ in true }, members.sorted())
        XCTAssertTrue((0..<1000 as Range<UInt64>).allSatisfy { set.contains(id($0)) == ($0 % 3 == 0) })
        XCTAssertFalse(set.insert(id(999)))
        XCTAssertTrue(set.insert(id(998)))
        XCTAssertEqual(set.count, members.count + 1)
    }
}

extension IndexedBlobSetTests {
    // insertLater: members are found before and after consolidate, counted after it, and
    // the same as inserting at once (indexed and unindexed, with repeats).
    func testDeferredInsertions() throws {
        for backing in IndexBacking.allCases {
            let index = try backing.index([IndexFile(packs: [SyntheticIndex.pack(1, firstSeed: 0, count: 3000)])], folder: folder)
            var set = IndexedBlobSet(numberingBy: index)
            let ids = (0..<4000 as Range<UInt64>).map { id($0 * 7 % 4000) } + (0..<100 as Range<UInt64>).map(id)
            for blob in ids { set.insertLater(blob) }
            XCTAssertTrue(set.contains(id(3999)) && set.contains(id(10)), "\(backing)")
            set.consolidate()
            XCTAssertEqual(set.count, 4000, "\(backing)")
            XCTAssertEqual(set.filter { _ in true }, Set(ids).sorted(), "\(backing)")
            XCTAssertFalse(set.insert(id(5)), "\(backing)")
            XCTAssertFalse(set.contains(id(4001)), "\(backing)")
        }
    }
}
