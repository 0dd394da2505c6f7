import XCTest
@testable import SnapEngine
import SnapCore

/// What a restore batch keeps of its last packs stays while batches use it, within the limit.
final class RestoreSpoolTests: XCTestCase {
    private let pack = PackID(raw: RawID(w0: 1, w1: 2, w2: 3, w3: 4))
    private let other = PackID(raw: RawID(w0: 5, w1: 6, w2: 7, w3: 8))
    private let bytes = (0..<4_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    /// Reserves room and keeps; whether there was room.
    @discardableResult
    private func keep(_ spool: RestoreSpool, _ pack: PackID, at offset: Int, _ bytes: [UInt8]) -> Bool {
        guard spool.reserve(pack, bytes.count) else { return false }
        spool.keep(pack, at: offset, bytes)
        return true
    }

    func testKeptBytesAreReadInsideTheirRangeOnly() {
        let spool = RestoreSpool()
        spool.startBatch()
        keep(spool, pack, at: 1_000, bytes)
        XCTAssertTrue(spool.keeps(pack))
        spool.startBatch()
        XCTAssertEqual(spool.read(pack, 1_000..<5_000), bytes)
        XCTAssertEqual(spool.read(pack, 2_500..<2_600), Array(bytes[1_500..<1_600]))
        XCTAssertNil(spool.read(pack, 999..<2_000), "starts before what was kept")
        XCTAssertNil(spool.read(pack, 4_000..<5_001), "ends after it")
        XCTAssertNil(spool.read(other, 1_000..<2_000), "another pack")
        XCTAssertFalse(spool.keeps(other))
    }

    // Kept in batch 1 and read in batch 2: still there in batch 3; not read there: gone in
    // batch 4. Never read again: gone after the batch after the one that kept it.
    func testKeptBytesStayWhileEachBatchReadsThem() {
        let spool = RestoreSpool()
        spool.startBatch()
        keep(spool, pack, at: 0, bytes)
        keep(spool, other, at: 0, bytes)
        spool.startBatch()
        XCTAssertNotNil(spool.read(pack, 0..<10))
        spool.startBatch()
        XCTAssertNil(spool.read(other, 0..<10), "not read by the batch after the one that kept it")
        spool.startBatch()
        XCTAssertNil(spool.read(pack, 20..<30), "not read by the previous batch")
    }

    // Room for a pack is made by dropping the packs least recently read, never those the
    // batch has read; without that room nothing is dropped and nothing kept.
    func testAtMostTheLimitIsKeptDroppingTheLeastRecentlyRead() {
        let third = PackID(raw: RawID(w0: 9, w1: 10, w2: 11, w3: 12))
        let quarter = RestoreSpool.limit / 4
        let spool = RestoreSpool()
        spool.startBatch()
        XCTAssertTrue(keep(spool, pack, at: 0, [UInt8](repeating: 1, count: quarter)))
        XCTAssertTrue(keep(spool, other, at: 0, [UInt8](repeating: 2, count: quarter)))
        spool.startBatch()
        XCTAssertEqual(spool.read(other, 0..<2), [2, 2])
        XCTAssertFalse(spool.reserve(third, RestoreSpool.limit - quarter + 1), "the room of `other`, read in this batch, stays")
        XCTAssertEqual(spool.read(pack, 0..<2), [1, 1], "nothing dropped for a reservation that failed")
        spool.startBatch()
        XCTAssertEqual(spool.read(other, 0..<2), [2, 2])
        XCTAssertTrue(keep(spool, third, at: 0, [UInt8](repeating: 3, count: 2 * quarter + 1)), "`pack` makes room")
        XCTAssertNil(spool.read(pack, 0..<2), "dropped: least recently read")
        XCTAssertEqual(spool.read(third, 0..<2), [3, 3])
        XCTAssertTrue(spool.reserve(pack, 10))
        spool.cancel(10)  // a read that failed gives its room back
        XCTAssertFalse(spool.reserve(pack, quarter), "`other` and `third` were read in this batch")
        XCTAssertFalse(spool.reserve(pack, RestoreSpool.limit + 1))
    }

    // The packs kept are the four that hold most of the last files (the more recent first
    // among equals): two packs filled side by side, and a pack that holds one of them; of
    // files scattered over many packs, the last four files' packs.
    func testTailPacksAreTheFourHoldingMostOfTheLastFiles() {
        let packs = (0..<64).map { PackID(raw: RawID(w0: UInt64($0), w1: 0, w2: 0, w3: 0)) }
        XCTAssertEqual(Restorer.tailPacks((0..<64).map { packs[$0 % 2] }), [packs[0], packs[1]])
        XCTAssertEqual(Restorer.tailPacks(packs), Set(packs[0..<4]), "scattered: the last four files' packs")
        let late = Array(repeating: packs[0], count: 40) + [packs[9]] + Array(repeating: packs[1], count: 23)
        XCTAssertEqual(Restorer.tailPacks(late), [packs[0], packs[1], packs[9]])
        let many = [packs[20]] + (0..<63).map { packs[$0 % 6] }
        XCTAssertEqual(Restorer.tailPacks(many), Set(packs[0..<4]), "the four holding most")
        XCTAssertEqual(Restorer.tailPacks([packs[5]]), [packs[5]], "a batch that ends with one file")
        XCTAssertEqual(Restorer.tailPacks([]), [])
    }
}
