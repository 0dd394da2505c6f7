import XCTest
import SnapCompression

final class ZstdRoundTripTests: XCTestCase {
    // Text-like data compresses to less than its size and decompresses to the same bytes.
    func testTextRoundTrip() throws {
        let input = textBytes(200_000, seed: 1)
        let frame = try ZstdCompressor(level: 3).compress(input)
        XCTAssertLessThan(frame.count, input.count / 2)
        XCTAssertEqual(try ZstdDecompressor().decompress(frame, length: input.count), input)
    }

    // Random data also round-trips through compress(_:), which always produces a frame.
    func testRandomRoundTrip() throws {
        let input = randomBytes(100_000, seed: 2)
        let frame = try ZstdCompressor(level: 3).compress(input)
        XCTAssertGreaterThanOrEqual(frame.count, input.count)
        XCTAssertEqual(try ZstdDecompressor().decompress(frame, length: input.count), input)
    }

    // compress(appendingTo:) keeps the existing prefix, appends one frame and returns true for text.
    func testAppendingCompressibleInput() throws {
        let input = textBytes(50_000, seed: 3)
        var output: [UInt8] = [9, 8, 7]
        let compressed = try input.withUnsafeBytes { try ZstdCompressor(level: 3).compress($0, appendingTo: &output) }
        XCTAssertTrue(compressed)
        XCTAssertEqual(Array(output.prefix(3)), [9, 8, 7])
        XCTAssertLessThan(output.count - 3, input.count)
        XCTAssertEqual(try ZstdDecompressor().decompress(Array(output.dropFirst(3)), length: input.count), input)
    }

    // compress(appendingTo:) returns false and leaves the output untouched for incompressible input.
    func testAppendingIncompressibleInputAppendsNothing() throws {
        let compressor = try ZstdCompressor(level: 3)
        for size in [1, 16, 1000, 100_000] {
            let input = randomBytes(size, seed: UInt64(size))
            var output: [UInt8] = [1, 2, 3, 4]
            let compressed = try input.withUnsafeBytes { try compressor.compress($0, appendingTo: &output) }
            XCTAssertFalse(compressed, "size \(size)")
            XCTAssertEqual(output, [1, 2, 3, 4], "size \(size)")
        }
    }

    // Empty input cannot get smaller, so compress(appendingTo:) declines it; compress(_:) still round-trips it.
    func testEmptyInput() throws {
        let compressor = try ZstdCompressor(level: 3)
        var output: [UInt8] = []
        XCTAssertFalse(try [UInt8]().withUnsafeBytes { try compressor.compress($0, appendingTo: &output) })
        XCTAssertEqual(output, [])
        let frame = try compressor.compress([])
        XCTAssertEqual(try ZstdDecompressor().decompress(frame, length: 0), [])
    }

    // One compressor and one decompressor can be reused for many inputs in turn.
    func testContextReuse() throws {
        let compressor = try ZstdCompressor(level: 5)
        let decompressor = try ZstdDecompressor()
        for seed in 0..<5 as Range<UInt64> {
            let input = textBytes(10_000 + Int(seed) * 777, seed: seed)
            XCTAssertEqual(try decompressor.decompress(try compressor.compress(input), length: input.count), input)
        }
    }
}
