import XCTest
import SnapCore
@testable import SnapEngine

final class KnownContentTests: XCTestCase {
    private func key(_ high: UInt64, _ low: UInt64) -> RawID { RawID(w0: high, w1: low, w2: 0, w3: low &* 3) }
    private func blob(_ n: UInt64) -> BlobID { BlobID(raw: RawID(w0: n, w1: 1, w2: 2, w3: 3)) }

    // 50,000 lists wait in the temporary file; each comes back as stored, and a key never
    // stored is unknown without a read.
    func testListsComeBackAsStored() {
        let known = KnownContent { XCTFail($0) }
        for n in 0..<50_000 as Range<UInt64> {
            known.insert(key(n, n), LinkedContent(content: (0..<(n % 4)).map { blob(n * 10 + $0) }, size: n))
        }
        XCTAssertEqual(known.count, 50_000)
        XCTAssertLessThan(known.bufferedBytes, 64 << 10 + 256, "the records were written out")
        for n in stride(from: 49_999, through: 0, by: -7) as StrideThrough<UInt64> {
            XCTAssertTrue(known.mayContain(key(n, n)))
            let content = known.content(for: key(n, n))
            XCTAssertEqual(content?.content, (0..<(n % 4)).map { blob(n * 10 + $0) }, "list \(n)")
            XCTAssertEqual(content?.size, n)
        }
        XCTAssertFalse(known.mayContain(key(50_000, 50_000)))
        XCTAssertNil(known.content(for: key(50_000, 50_000)))
    }

    // Two keys with the same first eight bytes share a slot: the earlier one is then
    // unknown (its file is read again), never answered with the later one's blobs.
    func testKeysSharingTheirFirstBytesNeverServeEachOther() {
        let known = KnownContent { XCTFail($0) }
        known.insert(key(9, 1), LinkedContent(content: [blob(1)], size: 1))
        XCTAssertEqual(known.content(for: key(9, 1))?.content, [blob(1)])
        XCTAssertTrue(known.mayContain(key(9, 2)), "the slot is found by the first bytes only")
        XCTAssertNil(known.content(for: key(9, 2)), "but a record is used only for its whole key")
        known.insert(key(9, 2), LinkedContent(content: [blob(2)], size: 2))
        XCTAssertEqual(known.content(for: key(9, 2))?.content, [blob(2)])
        XCTAssertNil(known.content(for: key(9, 1)), "the earlier list is forgotten, not mistaken")
    }

    // Where no temporary file can be made, one warning says so and the lists stay in memory.
    func testWithoutATemporaryFileListsStayInMemory() {
        final class Warnings { var texts: [String] = [] }
        let warnings = Warnings()
        let known = KnownContent(directory: "/nonexistent-snap-test-folder") { warnings.texts.append($0) }
        for n in 0..<5_000 as Range<UInt64> { known.insert(key(n, n), LinkedContent(content: [blob(n)], size: n)) }
        XCTAssertEqual(warnings.texts.count, 1, "\(warnings.texts)")
        XCTAssertTrue(warnings.texts.first?.contains("kept in memory") ?? false, "\(warnings.texts)")
        XCTAssertEqual(known.content(for: key(4_321, 4_321))?.content, [blob(4_321)])
    }
}
