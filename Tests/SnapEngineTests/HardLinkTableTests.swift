import XCTest
import SnapCore
@testable import SnapEngine

final class HardLinkTableTests: XCTestCase {
    private func key(_ n: UInt64) -> HardLinkKey { HardLinkKey(device: 7, inode: n) }
    private func blob(_ n: UInt8) -> BlobID { BlobID(raw: RawID(bytes: [UInt8](repeating: n, count: 32))!) }
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    private func known(_ source: LinkSource?, file: StaticString = #filePath, line: UInt = #line) -> LinkedContent? {
        guard case .known(let content)? = source else {
            XCTFail("not known: \(String(describing: source))", file: file, line: line)
            return nil
        }
        return content
    }

    // A file with three names: both further names get the first's path and content, and the
    // file is forgotten after the last.
    func testKnownContentServesEveryFurtherNameThenIsForgotten() {
        var table = HardLinkTable()
        table.addFirst(key(1), path: bytes("/a/x"), links: 3, content: LinkedContent(content: [blob(1), blob(2)], size: 9))
        table.addFirst(key(2), path: bytes("/a/single"), links: 1, content: LinkedContent(content: [blob(3)], size: 1))
        XCTAssertEqual(table.count, 1, "a file with one name is not kept")
        for _ in 0..<2 {
            let first = table.furtherName(key(1))
            XCTAssertEqual(first?.firstPath, bytes("/a/x"))
            XCTAssertEqual(known(first?.content)?.content, [blob(1), blob(2)])
            XCTAssertEqual(known(first?.content)?.size, 9)
        }
        XCTAssertNil(table.furtherName(key(1)))
        XCTAssertEqual(table.count, 0)
    }

    // A first name being read is served as its `Pending`; once read, `settle` turns it into
    // known content (or unreadable), front first, and the `Pending` is let go.
    func testSettleMovesReadContentIntoTheTable() throws {
        var table = HardLinkTable()
        let first = Pending<LinkedContent?>(), second = Pending<LinkedContent?>(), third = Pending<LinkedContent?>()
        table.addFirst(key(1), path: bytes("/p/1"), links: 4, pending: first)
        table.addFirst(key(2), path: bytes("/p/2"), links: 4, pending: second)
        table.addFirst(key(3), path: bytes("/p/3"), links: 4, pending: third)
        guard case .pending(let served)? = table.furtherName(key(1))?.content else { return XCTFail("not pending") }
        XCTAssertTrue(served === first)

        second.fulfil(.success(LinkedContent(content: [blob(2)], size: 2)))
        table.settle()
        guard case .pending? = table.furtherName(key(2))?.content else { return XCTFail("settled past an unread front") }

        first.fulfil(.success(LinkedContent(content: [blob(1)], size: 1)))
        third.fulfil(.success(nil))
        table.settle()
        XCTAssertEqual(known(table.furtherName(key(1))?.content)?.content, [blob(1)])
        XCTAssertEqual(known(table.furtherName(key(2))?.content)?.content, [blob(2)])
        guard case .unreadable? = table.furtherName(key(3))?.content else { return XCTFail("an unreadable first name") }
    }

    // A read that failed keeps its `Pending`, so the further name sees the failure.
    func testFailedReadKeepsItsError() {
        struct Failure: Error {}
        var table = HardLinkTable()
        let pending = Pending<LinkedContent?>()
        table.addFirst(key(1), path: bytes("/f"), links: 2, pending: pending)
        pending.fulfil(.failure(Failure()))
        table.settle()
        guard case .pending(let served)? = table.furtherName(key(1))?.content else { return XCTFail("not pending") }
        XCTAssertThrowsError(try served.wait())
    }

    // Records go to the temporary file 64 KiB at a time: 30,000 live entries keep less
    // than that in memory, and each is read back whole, from the file or from the buffer.
    func testRecordsWaitOnDiskAndComeBackWhole() {
        var table = HardLinkTable()
        let longPath = [UInt8](repeating: 0x61, count: 100)
        for n in 0..<30_000 {
            let blobs = (0..<(n % 3)).map { blob(UInt8(truncatingIfNeeded: n + $0)) }
            table.addFirst(key(UInt64(n)), path: longPath + bytes("\(n)"), links: 2, content: LinkedContent(content: blobs, size: UInt64(n)))
        }
        XCTAssertLessThan(table.bufferedBytes, 64 << 10 + 256, "4 MB of records were written out")
        for n in stride(from: 29_999, through: 0, by: -1) {
            let first = table.furtherName(key(UInt64(n)))
            XCTAssertEqual(first?.firstPath, longPath + bytes("\(n)"))
            XCTAssertEqual(known(first?.content)?.content, (0..<(n % 3)).map { blob(UInt8(truncatingIfNeeded: n + $0)) })
            XCTAssertEqual(known(first?.content)?.size, UInt64(n))
        }
        XCTAssertEqual(table.count, 0)
    }

    // Where no temporary file can be made, records stay in memory after one warning, and
    // the table works the same; an unreadable first name is remembered as such.
    func testWithoutATemporaryFileRecordsStayInMemory() throws {
        final class Warnings { var texts: [String] = [] }
        let warnings = Warnings()
        var table = HardLinkTable(directory: "/nonexistent-snap-test-folder") { warnings.texts.append($0) }
        let path = [UInt8](repeating: 0x62, count: 200)
        for n in 0..<1_000 {
            table.addFirst(key(UInt64(n)), path: path, links: 2, content: LinkedContent(content: [blob(UInt8(n % 256))], size: 1))
        }
        let unreadable = Pending<LinkedContent?>()
        table.addFirst(key(5_000), path: bytes("/gone"), links: 2, pending: unreadable)
        unreadable.fulfil(.success(nil))
        table.settle()
        XCTAssertEqual(warnings.texts.count, 1, "\(warnings.texts)")
        XCTAssertTrue(warnings.texts.first?.contains("kept in memory") ?? false, "\(warnings.texts)")
        XCTAssertGreaterThan(table.bufferedBytes, 200_000)
        XCTAssertEqual(known(table.furtherName(key(999))?.content)?.content, [blob(UInt8(999 % 256))])
        let gone = table.furtherName(key(5_000))
        XCTAssertEqual(gone?.firstPath, bytes("/gone"))
        guard case .unreadable? = gone?.content else { return XCTFail("an unreadable first name") }
    }
}
