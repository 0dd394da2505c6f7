import XCTest
import SnapChunker

/// `boundary(in:isFinal:checked:)` fed a stream a few bytes at a time must cut exactly
/// where one scan over the whole stream cuts: readers hold less than two maximum chunks.
final class ChunkerResumeTests: XCTestCase {
    /// Cuts `data` as a reader would: bytes arrive in pieces of the given sizes (cycled),
    /// the chunker looks again after each piece, resuming where it stopped.
    private func lengthsInPieces(_ data: [UInt8], _ chunker: Chunker, pieces: [Int]) -> [Int] {
        var lengths: [Int] = []
        var start = 0, end = 0, checked = 0, piece = 0
        data.withUnsafeBytes { all in
            while start < data.count {
                let isFinal = end == data.count
                switch chunker.boundary(in: UnsafeRawBufferPointer(rebasing: all[start..<end]), isFinal: isFinal, checked: checked) {
                case .at(let length):
                    XCTAssertGreaterThan(length, 0)
                    lengths.append(length)
                    start += length
                    checked = 0
                case .beyond(let scanned):
                    XCTAssertFalse(isFinal, "the end of the stream always decides")
                    XCTAssertLessThanOrEqual(scanned, end - start)
                    checked = scanned
                    end = min(data.count, end + pieces[piece % pieces.count])
                    piece += 1
                }
            }
        }
        return lengths
    }

    func testRandomBytesInUnevenPieces() {
        let chunker = Chunker(gear: Fixtures.gear, parameters: smallParameters)
        let data = Array(Fixtures.random8MiB[..<(2 << 20)])
        let whole = chunker.chunkLengths(of: data)
        XCTAssertGreaterThan(whole.count, 50)
        // Pieces below 64 bytes resume inside the hash's window; large ones span several chunks.
        for pieces in [[1, 7, 63], [65, 4093], [333], [100_000, 5], [smallParameters.maxSize + 1]] {
            XCTAssertEqual(lengthsInPieces(data, chunker, pieces: pieces), whole, "pieces \(pieces)")
        }
    }

    // Chunks that end at the maximum size (no cut point in them) are found across pieces too.
    func testMaximumChunksAcrossPieces() throws {
        let chunker = Chunker(gear: Fixtures.gear, parameters: smallParameters)
        // A run of one byte value settles the hash on one value; find a value whose run never cuts.
        let value = (0...255).first { b in
            chunker.chunkLengths(of: [UInt8](repeating: UInt8(b), count: 2 * smallParameters.maxSize)).first == smallParameters.maxSize
        }
        let byte = UInt8(try XCTUnwrap(value, "some byte value never cuts"))
        let data = [UInt8](repeating: byte, count: 5 * smallParameters.maxSize + 123)
        let whole = chunker.chunkLengths(of: data)
        XCTAssertEqual(whole.dropLast(), Array(repeating: smallParameters.maxSize, count: 5)[...])
        XCTAssertEqual(lengthsInPieces(data, chunker, pieces: [4096, 17]), whole)
    }

    // Too few bytes to decide: nothing is cut until the stream ends.
    func testUndecidedUntilFinal() {
        let chunker = Chunker(gear: Fixtures.gear, parameters: smallParameters)
        let data = Array(Fixtures.random8MiB[..<100])
        data.withUnsafeBytes { bytes in
            XCTAssertEqual(chunker.boundary(in: bytes, isFinal: false), .beyond(checked: 100))
            XCTAssertEqual(chunker.boundary(in: bytes, isFinal: true, checked: 100), .at(100))
        }
    }
}
