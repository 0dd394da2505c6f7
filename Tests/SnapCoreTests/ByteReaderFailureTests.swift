import XCTest
import SnapCore

final class ByteReaderFailureTests: XCTestCase {
    private func assertFails<T>(_ bytes: [UInt8], _ read: (inout ByteReader) throws -> T, _ message: String = "",
                                file: StaticString = #filePath, line: UInt = #line) {
        var reader = ByteReader(bytes)
        XCTAssertThrowsError(try read(&reader), message, file: file, line: line) { error in
            XCTAssertTrue(error is DecodingFailure, "\(message): \(error)", file: file, line: line)
        }
    }

    // Every strict prefix of each encoding throws DecodingFailure rather than reading garbage.
    func testTruncatedInputThrows() {
        var w = ByteWriter()
        w.u32(0xdead_beef)
        w.u64(.max)
        w.uvarint(UInt64.max)
        w.svarint(Int64.min)
        w.data([1, 2, 3, 4, 5])
        w.string("hello")
        w.id(RawID(w0: 1, w1: 2, w2: 3, w3: 4))
        let full = w.bytes
        let readAll: (inout ByteReader) throws -> Void = { r in
            _ = try r.u32(); _ = try r.u64(); _ = try r.uvarint(); _ = try r.svarint()
            _ = try r.data(); _ = try r.string(); _ = try r.id()
        }
        var complete = ByteReader(full)
        XCTAssertNoThrow(try readAll(&complete))
        for cut in 0..<full.count {
            assertFails(Array(full.prefix(cut)), readAll, "prefix of \(cut) bytes")
        }
    }

    // Each reader on its own throws on too few bytes.
    func testEachReaderNeedsItsBytes() {
        assertFails([], { try $0.u8() })
        assertFails([1, 2, 3], { try $0.u32() })
        assertFails([1, 2, 3, 4, 5, 6, 7], { try $0.u64() })
        assertFails([0x80], { try $0.uvarint() })
        assertFails([0xff, 0xff], { try $0.svarint() })
        assertFails([UInt8](repeating: 0, count: 31), { try $0.id() })
        assertFails([1, 2], { try $0.raw(3) })
        assertFails([0x05, 1, 2, 3, 4], { try $0.data() }, "length 5 with 4 bytes left")
        assertFails([0x03, 0x61, 0x62], { try $0.string() }, "length 3 with 2 bytes left")
    }

    // A varint with a redundant zero continuation group ([0x80, 0x00] for 0) is rejected.
    func testNonCanonicalVarintThrows() {
        assertFails([0x80, 0x00], { try $0.uvarint() })
        assertFails([0xff, 0x00], { try $0.uvarint() })
        assertFails([0xac, 0x82, 0x00], { try $0.uvarint() }, "300 padded to three bytes")
        assertFails([0x81, 0x00], { try $0.svarint() })
    }

    // A varint that does not fit 64 bits throws instead of wrapping.
    func testOverflowingVarintThrows() {
        assertFails([UInt8](repeating: 0xff, count: 9) + [0x02], { try $0.uvarint() }, "2^64")
        assertFails([UInt8](repeating: 0xff, count: 10) + [0x01], { try $0.uvarint() }, "eleven bytes")
        assertFails([UInt8](repeating: 0x80, count: 12) + [0x01], { try $0.uvarint() }, "far too long")
    }

    // Invalid UTF-8 in a string throws.
    func testInvalidUTF8Throws() {
        assertFails([0x02, 0xc3, 0x28], { try $0.string() })
        assertFails([0x01, 0xff], { try $0.string() })
    }

    // count(limit:) rejects values above the limit.
    func testCountLimit() throws {
        assertFails([0x0b], { try $0.count(limit: 10) })
        var r = ByteReader([0x0a])
        XCTAssertEqual(try r.count(limit: 10), 10)
    }

    // The failure reports where the bad value starts.
    func testFailureOffset() {
        var r = ByteReader([0x07, 0x80, 0x00])
        XCTAssertEqual(try r.u8(), 7)
        XCTAssertThrowsError(try r.uvarint()) { error in
            XCTAssertEqual((error as? DecodingFailure)?.offset, 1)
        }
    }

    // A reader can start at an offset into the buffer.
    func testStartOffset() throws {
        var r = ByteReader([0xff, 0xff, 0xac, 0x02], offset: 2)
        XCTAssertEqual(r.remaining, 2)
        XCTAssertEqual(try r.uvarint(), 300)
        XCTAssertTrue(r.isAtEnd)
    }
}
