import XCTest
import SnapCore

final class ByteCodingKnownEncodingTests: XCTestCase {
    private func encoded(_ body: (inout ByteWriter) -> Void) -> [UInt8] {
        var w = ByteWriter()
        body(&w)
        return w.bytes
    }

    // uvarint is LEB128: 300 = 0b10_0101100 → [0xAC, 0x02]; 127 takes one byte, 128 two.
    func testUvarintEncodings() {
        XCTAssertEqual(encoded { $0.uvarint(0) }, [0x00])
        XCTAssertEqual(encoded { $0.uvarint(127) }, [0x7f])
        XCTAssertEqual(encoded { $0.uvarint(128) }, [0x80, 0x01])
        XCTAssertEqual(encoded { $0.uvarint(300) }, [0xac, 0x02])
        XCTAssertEqual(encoded { $0.uvarint(UInt64.max) }, [UInt8](repeating: 0xff, count: 9) + [0x01])
    }

    // svarint is zig-zag: 0→0, -1→1, 1→2, -2→3, and the extremes take ten bytes.
    func testSvarintEncodings() {
        XCTAssertEqual(encoded { $0.svarint(0) }, [0x00])
        XCTAssertEqual(encoded { $0.svarint(-1) }, [0x01])
        XCTAssertEqual(encoded { $0.svarint(1) }, [0x02])
        XCTAssertEqual(encoded { $0.svarint(-2) }, [0x03])
        XCTAssertEqual(encoded { $0.svarint(-64) }, [0x7f])
        XCTAssertEqual(encoded { $0.svarint(64) }, [0x80, 0x01])
        XCTAssertEqual(encoded { $0.svarint(Int64.max) }, [0xfe] + [UInt8](repeating: 0xff, count: 8) + [0x01])
        XCTAssertEqual(encoded { $0.svarint(Int64.min) }, [UInt8](repeating: 0xff, count: 9) + [0x01])
    }

    // Fixed-width integers are little-endian.
    func testFixedWidthAreLittleEndian() {
        XCTAssertEqual(encoded { $0.u32(0x1234_5678) }, [0x78, 0x56, 0x34, 0x12])
        XCTAssertEqual(encoded { $0.u64(0x0102_0304_0506_0708) }, [8, 7, 6, 5, 4, 3, 2, 1])
    }

    // A byte string is its uvarint length then the bytes; a string is its UTF-8 bytes that way.
    func testDataAndStringEncodings() {
        XCTAssertEqual(encoded { $0.data([0xaa, 0xbb]) }, [0x02, 0xaa, 0xbb])
        XCTAssertEqual(encoded { $0.string("é") }, [0x02, 0xc3, 0xa9])
        XCTAssertEqual(encoded { $0.data([UInt8](repeating: 1, count: 128)) }.prefix(3), [0x80, 0x01, 0x01])
    }

    // An ID is its 32 bytes, most significant first, with no length prefix.
    func testIDEncoding() {
        let bytes = (0..<32).map { UInt8($0 * 3) }
        XCTAssertEqual(encoded { $0.id(RawID(bytes: bytes)!) }, bytes)
    }
}
