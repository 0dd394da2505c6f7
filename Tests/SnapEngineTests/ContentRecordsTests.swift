import XCTest
import SnapCore
@testable import SnapEngine

final class ContentRecordsTests: XCTestCase {
    private func blob(_ n: Int) -> BlobID {
        BlobID(raw: RawID(w0: UInt64(n), w1: UInt64(n) &* 31, w2: 7, w3: UInt64(n) << 3))
    }

    // Records of every length, short and far beyond the first read of 512 bytes, come back
    // whole and in order, whether they are still in the buffer or already in the file.
    func testRecordsOfEveryLengthComeBackWholeFromBufferAndFile() {
        let records = ContentRecords(directory: nil) { XCTFail("no failure expected: \($0)") }
        var offsets: [Int64] = []
        for n in 0..<600 {
            let content = n % 7 == 0 ? nil : LinkedContent(content: (0..<(n % 50)).map { blob(n * 100 + $0) }, size: UInt64(n))
            offsets.append(records.append(label: Array(repeating: UInt8(n % 256), count: n % 300), content: content))
        }
        XCTAssertLessThan(records.bufferedBytes, 64 << 10 + 2_000, "most of the ~500 KB went to the file")
        for (n, offset) in offsets.enumerated() {
            guard let record = records.read(at: offset) else { return XCTFail("record \(n) not read back") }
            XCTAssertEqual(record.label, Array(repeating: UInt8(n % 256), count: n % 300), "record \(n)")
            if n % 7 == 0 {
                XCTAssertNil(record.content, "record \(n) was unreadable content")
            } else {
                XCTAssertEqual(record.content?.content, (0..<(n % 50)).map { blob(n * 100 + $0) }, "record \(n)")
                XCTAssertEqual(record.content?.size, UInt64(n), "record \(n)")
            }
        }
    }

    // Without a temporary file the records stay in memory after one warning, and read back the same.
    func testWithoutATemporaryFileRecordsStayInMemory() {
        final class Failures { var count = 0 }
        let failures = Failures()
        let records = ContentRecords(directory: "/nonexistent-snap-test-folder") { failure in
            guard case .cannotWrite = failure else { return XCTFail("\(failure)") }
            failures.count += 1
        }
        let offsets = (0..<300).map { n in
            records.append(label: [UInt8(n % 256)], content: LinkedContent(content: (0..<20).map { blob(n + $0) }, size: 1))
        }
        XCTAssertEqual(failures.count, 1)
        XCTAssertGreaterThan(records.bufferedBytes, 300 * 20 * 32)
        for (n, offset) in offsets.enumerated() {
            XCTAssertEqual(records.read(at: offset)?.content?.content, (0..<20).map { blob(n + $0) })
        }
    }
}
