import XCTest
import SnapCompression

final class ZstdLevelTests: XCTestCase {
    // The range is the linked zstd's own: negative (fast) levels down to ZSTD_minCLevel(), up to 22.
    func testLevelsAreZstdsRange() {
        XCTAssertEqual(ZstdCompressor.levels.upperBound, 22)
        XCTAssertLessThanOrEqual(ZstdCompressor.levels.lowerBound, -7)
        for level in [ZstdCompressor.levels.lowerBound, -5, 0, 3, 22] {
            XCTAssertNoThrow(try ZstdCompressor.validate(level: level), "\(level)")
        }
    }

    // A level outside the range is named with the range, rather than clamped as zstd would.
    func testOutOfRangeLevelsAreRefused() {
        for level in [23, 99, ZstdCompressor.levels.lowerBound - 1] {
            XCTAssertThrowsError(try ZstdCompressor.validate(level: level)) { error in
                XCTAssertEqual(error as? CompressionError, .levelOutOfRange(level: level, range: ZstdCompressor.levels))
            }
        }
    }

    // Every level in the range, the extremes included, compresses and round-trips.
    func testExtremeLevelsRoundTrip() throws {
        let input = Array(repeating: Array("snap level test ".utf8), count: 500).flatMap { $0 }
        for level in [ZstdCompressor.levels.lowerBound, -5, 22] {
            let frame = try ZstdCompressor(level: Int32(level)).compress(input)
            XCTAssertEqual(try ZstdDecompressor().decompress(frame, length: input.count), input, "\(level)")
        }
    }
}
