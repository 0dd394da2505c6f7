import XCTest
import SnapCompression

final class ZstdFailureTests: XCTestCase {
    private func frame(of input: [UInt8]) throws -> [UInt8] { try ZstdCompressor(level: 3).compress(input) }

    // Asking for fewer or more bytes than the frame holds throws instead of returning a wrong length.
    func testWrongLengthThrows() throws {
        let input = textBytes(10_000, seed: 4)
        let frame = try frame(of: input)
        let decompressor = try ZstdDecompressor()
        for length in [0, 9_999, 10_001, 20_000] {
            XCTAssertThrowsError(try decompressor.decompress(frame, length: length), "length \(length)") { error in
                XCTAssertTrue(error is CompressionError, "\(error)")
            }
        }
        XCTAssertEqual(try decompressor.decompress(frame, length: 10_000), input)
    }

    // Bytes that are not a zstd frame (bad magic, garbage, nothing at all) throw.
    func testGarbageThrows() throws {
        let decompressor = try ZstdDecompressor()
        XCTAssertThrowsError(try decompressor.decompress(randomBytes(1000, seed: 5), length: 1000))
        XCTAssertThrowsError(try decompressor.decompress([], length: 10))
        var frame = try frame(of: textBytes(1000, seed: 6))
        frame[0] ^= 0xff
        XCTAssertThrowsError(try decompressor.decompress(frame, length: 1000))
    }

    // A frame cut short at any point throws.
    func testTruncatedFrameThrows() throws {
        let input = textBytes(5000, seed: 7)
        let frame = try frame(of: input)
        let decompressor = try ZstdDecompressor()
        for cut in 0..<frame.count {
            XCTAssertThrowsError(try decompressor.decompress(Array(frame.prefix(cut)), length: input.count), "cut \(cut)")
        }
    }

    // Flipping any byte of a frame never crashes: zstd either rejects it or returns exactly `length` bytes.
    func testCorruptedFrameNeverCrashes() throws {
        let input = textBytes(3000, seed: 8)
        let frame = try frame(of: input)
        let decompressor = try ZstdDecompressor()
        var rejected = 0
        for index in 0..<frame.count {
            var damaged = frame
            damaged[index] ^= 0x5a
            do {
                let output = try decompressor.decompress(damaged, length: input.count)
                XCTAssertEqual(output.count, input.count)
            } catch {
                XCTAssertTrue(error is CompressionError, "\(error)")
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 0)
        // The decompressor is still usable after all those failures.
        XCTAssertEqual(try decompressor.decompress(frame, length: input.count), input)
    }
}
