import XCTest
import SnapCore
import SnapTestSupport
@testable import SnapRepository

final class BlobIDSetTests: XCTestCase {
    private func id(_ seed: UInt64) -> BlobID { BlobID(raw: SyntheticIndex.rawID(seed)) }

    // Random insertions (with repeats, across many folds) give the same answers as a Set<BlobID>:
    // insert's result, contains, count and the members.
    func testMatchesSetOnRandomIDs() {
        var random = SplitMix64(seed: 19)
        var set = BlobIDSet()
        var expected: Set<BlobID> = []
        for _ in 0..<30_000 {
            let blob = id(UInt64.random(in: 0..<20_000, using: &random))
            XCTAssertEqual(set.insert(blob), expected.insert(blob).inserted)
        }
        XCTAssertEqual(set.count, expected.count)
        for seed in 0..<25_000 as Range<UInt64> { XCTAssertEqual(set.contains(id(seed)), expected.contains(id(seed))) }
        var members: [BlobID] = []
        set.forEach { members.append($0) }
        XCTAssertEqual(members.count, expected.count)
        XCTAssertEqual(Set(members), expected)
        XCTAssertEqual(set.filter { _ in true }, expected.sorted())
    }

    // Past 65,536 members searches go through the bucket directory: every member is still
    // found at its rank, and absent IDs (including the smallest and largest) are not.
    func testLargeSetWithDirectory() {
        let members = (0..<150_000 as Range<UInt64>).map(id)
        var set = BlobIDSet(members)
        set.consolidate()
        XCTAssertEqual(set.count, 150_000)
        let sorted = members.sorted()
        XCTAssertTrue(sorted.enumerated().allSatisfy { set.position(of: $0.element) == $0.offset })
        XCTAssertFalse((150_000..<160_000 as Range<UInt64>).contains { set.contains(id($0)) })
        let zero = RawID(w0: 0, w1: 0, w2: 0, w3: 0), top = RawID(w0: .max, w1: .max, w2: .max, w3: .max)
        XCTAssertFalse(set.contains(BlobID(raw: zero)) || set.contains(BlobID(raw: top)))
        XCTAssertTrue(set.insert(BlobID(raw: top)))
        XCTAssertTrue(set.contains(BlobID(raw: top)))
    }

    // After consolidate, every member has a distinct position below positionCount (its rank in ID
    // order); blobs inserted after it have none until the next consolidate, but are members.
    func testPositionsAfterConsolidate() {
        var set = BlobIDSet((0..<5000 as Range<UInt64>).map(id))
        set.consolidate()
        XCTAssertEqual(set.positionCount, 5000)
        let sorted = (0..<5000 as Range<UInt64>).map(id).sorted()
        for (rank, blob) in sorted.enumerated() { XCTAssertEqual(set.position(of: blob), rank) }
        XCTAssertNil(set.position(of: id(99_999)))
        let late = id(50_000)
        XCTAssertTrue(set.insert(late))
        XCTAssertNil(set.position(of: late))
        XCTAssertTrue(set.contains(late))
        set.consolidate()
        XCTAssertNotNil(set.position(of: late))
        XCTAssertEqual(set.positionCount, 5001)
    }

    // A copy is a value: inserting into one leaves the other as it was.
    func testCopyOnWrite() {
        var a = BlobIDSet((0..<10_000 as Range<UInt64>).map(id))
        a.consolidate()
        var b = a
        XCTAssertTrue(b.insert(id(77_777)))
        XCTAssertFalse(a.contains(id(77_777)))
        XCTAssertEqual(a.count, 10_000)
        XCTAssertEqual(b.count, 10_001)
        for seed in stride(from: 0, to: 10_000, by: 37) as StrideTo<UInt64> { XCTAssertTrue(b.contains(id(seed))) }
    }

    func testPositionBits() {
        var bits = PositionBits(count: 130)
        XCTAssertTrue(bits.insert(0))
        XCTAssertTrue(bits.insert(129))
        XCTAssertFalse(bits.insert(129))
        XCTAssertTrue(bits.contains(0) && bits.contains(129))
        XCTAssertFalse(bits.contains(64))
    }
}
