import XCTest
@testable import SnapEngine
import SnapCore

/// What a restore batch keeps of its last packs is read by the next batch only, within the limit.
final class RestoreSpoolTests: XCTestCase {
    private let pack = PackID(raw: RawID(w0: 1, w1: 2, w2: 3, w3: 4))
    private let other = PackID(raw: RawID(w0: 5, w1: 6, w2: 7, w3: 8))

    func testTheNextBatchReadsWhatTheLastOneKeptInsideItsRange() {
        let spool = RestoreSpool()
        spool.startBatch()
        let bytes = (0..<4_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        spool.keep(pack, at: 1_000, bytes)
        XCTAssertNil(spool.read(pack, 1_000..<2_000), "not readable by the batch that keeps it")
        spool.startBatch()
        XCTAssertEqual(spool.read(pack, 1_000..<5_000), bytes)
        XCTAssertEqual(spool.read(pack, 2_500..<2_600), Array(bytes[1_500..<1_600]))
        XCTAssertNil(spool.read(pack, 999..<2_000), "starts before what was kept")
        XCTAssertNil(spool.read(pack, 4_000..<5_001), "ends after it")
        XCTAssertNil(spool.read(other, 1_000..<2_000), "another pack")
        spool.startBatch()
        XCTAssertNil(spool.read(pack, 1_000..<2_000), "dropped after one batch")
    }

    func testABatchKeepsAtMostTheLimit() {
        let spool = RestoreSpool()
        spool.startBatch()
        spool.keep(pack, at: 0, [UInt8](repeating: 1, count: RestoreSpool.limit - 10))
        spool.keep(other, at: 0, [UInt8](repeating: 2, count: 11))
        spool.startBatch()
        XCTAssertEqual(spool.read(pack, 0..<5), [1, 1, 1, 1, 1])
        XCTAssertNil(spool.read(other, 0..<5), "past the limit: not kept")
    }
}
