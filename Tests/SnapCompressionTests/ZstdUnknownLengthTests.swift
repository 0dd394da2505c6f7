import XCTest
import SnapCompression

/// `decompress(_:limit:)`: frames whose length is recorded nowhere (restic's JSON files).
final class ZstdUnknownLengthTests: XCTestCase {
    private let text = Array(String(repeating: "restic index entry, ", count: 50_000).utf8)

    func testRoundTripsLargeOutput() throws {
        let frame = try ZstdCompressor(level: 3).compress(text)
        XCTAssertLessThan(frame.count, text.count / 10)
        XCTAssertEqual(try frame.withUnsafeBytes { try ZstdDecompressor().decompress($0, limit: 1 << 30) }, text)
    }

    // Output past the limit, a truncated frame and garbage are errors, not crashes or short results.
    func testLimitTruncationAndGarbageFail() throws {
        let frame = try ZstdCompressor(level: 3).compress(text)
        let decompressor = try ZstdDecompressor()
        XCTAssertThrowsError(try frame.withUnsafeBytes { try decompressor.decompress($0, limit: text.count - 1) })
        XCTAssertThrowsError(try Array(frame.dropLast(8)).withUnsafeBytes { try decompressor.decompress($0, limit: 1 << 30) })
        XCTAssertThrowsError(try Array("not zstd at all".utf8).withUnsafeBytes { try decompressor.decompress($0, limit: 1 << 30) })
        // The context recovers after an error.
        XCTAssertEqual(try frame.withUnsafeBytes { try decompressor.decompress($0, limit: 1 << 30) }, text)
    }
}
