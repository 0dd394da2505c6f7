import XCTest
import SnapCore

final class ByteCodingRoundTripTests: XCTestCase {
    private let unsignedSamples: [UInt64] = [0, 1, 127, 128, 255, 256, 300, 16_383, 16_384, 1 << 32,
                                             UInt64(Int64.max), UInt64(Int64.max) + 1, UInt64.max - 1, UInt64.max]
    private let signedSamples: [Int64] = [0, 1, -1, 63, -64, 64, -65, 127, 128, -128, 1 << 40, -(1 << 40),
                                          Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]

    // Every u32 written reads back identically, and uses exactly 4 bytes.
    func testU32RoundTrip() throws {
        for v: UInt32 in [0, 1, 127, 128, 0x1234_5678, UInt32.max] {
            var w = ByteWriter()
            w.u32(v)
            XCTAssertEqual(w.bytes.count, 4)
            var r = ByteReader(w.bytes)
            XCTAssertEqual(try r.u32(), v)
            XCTAssertTrue(r.isAtEnd)
        }
    }

    // Every u64 written reads back identically, and uses exactly 8 bytes.
    func testU64RoundTrip() throws {
        for v in unsignedSamples {
            var w = ByteWriter()
            w.u64(v)
            XCTAssertEqual(w.bytes.count, 8)
            var r = ByteReader(w.bytes)
            XCTAssertEqual(try r.u64(), v)
            XCTAssertTrue(r.isAtEnd)
        }
    }

    // uvarints round-trip, including 0, 127, 128 and UInt64.max, one after another in a stream.
    func testUvarintRoundTrip() throws {
        var w = ByteWriter()
        for v in unsignedSamples { w.uvarint(v) }
        var r = ByteReader(w.bytes)
        for v in unsignedSamples { XCTAssertEqual(try r.uvarint(), v) }
        XCTAssertTrue(r.isAtEnd)
    }

    // svarints round-trip, including Int64.min and Int64.max.
    func testSvarintRoundTrip() throws {
        var w = ByteWriter()
        for v in signedSamples { w.svarint(v) }
        var r = ByteReader(w.bytes)
        for v in signedSamples { XCTAssertEqual(try r.svarint(), v) }
        XCTAssertTrue(r.isAtEnd)
    }

    // Byte strings, UTF-8 strings, IDs and raw bytes round-trip in sequence with the other encodings.
    func testMixedRecordRoundTrip() throws {
        let id = RawID(w0: 0x0102_0304_0506_0708, w1: 0, w2: .max, w3: 42)
        var w = ByteWriter()
        w.u8(0xfe)
        w.data([UInt8]())
        w.data([1, 2, 3])
        w.string("")
        w.string("naïve — 日本語 🙂")
        w.id(id)
        w.raw([7, 7])
        w.uvarint(5)
        var r = ByteReader(w.bytes)
        XCTAssertEqual(try r.u8(), 0xfe)
        XCTAssertEqual(try r.data(), [])
        XCTAssertEqual(try r.data(), [1, 2, 3])
        XCTAssertEqual(try r.string(), "")
        XCTAssertEqual(try r.string(), "naïve — 日本語 🙂")
        XCTAssertEqual(try r.id(), id)
        XCTAssertEqual(try r.raw(2), [7, 7])
        XCTAssertEqual(try r.count(limit: 5), 5)
        XCTAssertTrue(r.isAtEnd)
        XCTAssertEqual(r.remaining, 0)
    }

    // A long byte string (length needing a multi-byte varint) round-trips.
    func testLongDataRoundTrip() throws {
        let blob = (0..<70_000).map { UInt8(truncatingIfNeeded: $0) }
        var w = ByteWriter()
        w.data(blob)
        XCTAssertEqual(w.bytes.count, 3 + blob.count)
        var r = ByteReader(w.bytes)
        XCTAssertEqual(try r.data(), blob)
    }
}
