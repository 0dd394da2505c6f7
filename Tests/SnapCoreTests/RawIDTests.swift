import XCTest
import Foundation
import SnapCore

final class RawIDTests: XCTestCase {
    private let sequential = (0..<32).map { UInt8($0) }

    /// Deterministic pseudo-random 32-byte values (SplitMix64).
    private func seededIDs(_ count: Int) -> [[UInt8]] {
        var state: UInt64 = 12345
        func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        return (0..<count).map { _ in (0..<32).map { _ in UInt8(truncatingIfNeeded: next()) } }
    }

    // Bytes go in and come out unchanged, packed big-endian into the words.
    func testBytesRoundTrip() {
        let id = RawID(bytes: sequential)!
        XCTAssertEqual(id.bytes, sequential)
        XCTAssertEqual(id.w0, 0x0001_0203_0405_0607)
        XCTAssertEqual(id.w3, 0x1819_1a1b_1c1d_1e1f)
        XCTAssertEqual(RawID(bytes: sequential[...])!, id)
    }

    // hex is 64 lower-case digits and parses back to the same ID; upper case parses too.
    func testHexRoundTrip() {
        for bytes in seededIDs(50) + [sequential] {
            let id = RawID(bytes: bytes)!
            XCTAssertEqual(id.hex.count, 64)
            XCTAssertEqual(id.hex, id.hex.lowercased())
            XCTAssertEqual(RawID(hex: id.hex), id)
            XCTAssertEqual(RawID(hex: id.hex.uppercased()), id)
        }
        XCTAssertEqual(RawID(bytes: sequential)!.hex,
                       "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    }

    // Only exactly 32 bytes (64 hex digits) make an ID.
    func testWrongLengthsAreRejected() {
        XCTAssertNil(RawID(bytes: [UInt8](repeating: 1, count: 31)))
        XCTAssertNil(RawID(bytes: [UInt8](repeating: 1, count: 33)))
        XCTAssertNil(RawID(bytes: [UInt8]()))
        let hex = RawID(bytes: sequential)!.hex
        XCTAssertNil(RawID(hex: String(hex.dropLast(2))))
        XCTAssertNil(RawID(hex: String(hex.dropLast())))
        XCTAssertNil(RawID(hex: hex + "00"))
        XCTAssertNil(RawID(hex: String(hex.dropLast()) + "g"))
    }

    // Comparison of IDs is lexicographic comparison of their bytes, in every word position.
    func testOrderingEqualsByteOrdering() {
        var samples = seededIDs(40)
        // Pairs that differ only in a late byte, to exercise the later words.
        for position in [0, 7, 8, 15, 16, 23, 24, 31] {
            var a = sequential, b = sequential
            a[position] = 0x7f
            b[position] = 0x80
            samples += [a, b]
        }
        for a in samples {
            for b in samples {
                let ia = RawID(bytes: a)!, ib = RawID(bytes: b)!
                XCTAssertEqual(ia < ib, a.lexicographicallyPrecedes(b), "\(ia.hex) vs \(ib.hex)")
                XCTAssertEqual(ia == ib, a == b)
            }
        }
        let sortedIDs = samples.map { RawID(bytes: $0)! }.sorted().map(\.bytes)
        XCTAssertEqual(sortedIDs, samples.sorted { $0.lexicographicallyPrecedes($1) })
    }

    // Equal IDs hash equally, so they collapse in a Set.
    func testHashable() {
        let ids = seededIDs(10).map { RawID(bytes: $0)! }
        XCTAssertEqual(Set(ids + ids).count, 10)
    }

    // Typed IDs encode as a JSON string of 64 hex digits and reject anything else when decoding.
    func testTypedIDCodable() throws {
        let id = BlobID(bytes: sequential)!
        let json = try JSONEncoder().encode([id])
        XCTAssertEqual(String(decoding: json, as: UTF8.self), "[\"\(id.hex)\"]")
        XCTAssertEqual(try JSONDecoder().decode([BlobID].self, from: json), [id])
        XCTAssertThrowsError(try JSONDecoder().decode([BlobID].self, from: Data("[\"abcd\"]".utf8)))
        XCTAssertEqual(id.short, "00010203")
        XCTAssertEqual(id.description, id.hex)
    }
}
