import XCTest
import SnapChunker

/// The chunker's cut points are part of the repository format (FORMAT.md, "Chunking"):
/// a faster scan must cut exactly where the definition, one byte at a time, cuts.
final class ChunkerReferenceTests: XCTestCase {
    /// FORMAT.md's definition, written as plainly as possible.
    private func referenceLengths(_ data: [UInt8], gear: GearTable, parameters p: ChunkerParameters) -> [Int] {
        let bits = p.averageSize.trailingZeroBitCount
        let strict = ~UInt64(0) << UInt64(64 - min(bits + 2, 63))
        let loose = ~UInt64(0) << UInt64(64 - max(bits - 2, 1))
        var lengths: [Int] = []
        var start = 0
        while start < data.count {
            let remaining = data.count - start
            var length = min(remaining, p.maxSize)
            if remaining > p.minSize {
                var hash: UInt64 = 0
                for i in p.minSize..<min(remaining, p.maxSize) {
                    hash = (hash << 1) &+ gear.values[Int(data[start + i])]
                    if hash & (i + 1 <= p.averageSize ? strict : loose) == 0 { length = i + 1; break }
                }
            }
            lengths.append(length)
            start += length
        }
        return lengths
    }

    func testCutsMatchTheByteAtATimeDefinition() {
        let gear = seededGear(7)
        // Odd minimum and average sizes put the phase change and the first hashed byte on
        // odd as well as even offsets; the maximum is reached in the low-entropy run.
        for parameters in [smallParameters,
                           ChunkerParameters(minSize: 1001, averageSize: 4096, maxSize: 9999),
                           ChunkerParameters(minSize: 64, averageSize: 256, maxSize: 1025)] {
            var data = Array(Fixtures.random8MiB[..<(1 << 20)])
            data += [UInt8](repeating: 0, count: 200_000)  // a constant run: the hash never cuts
            data += Fixtures.random8MiB[(1 << 20)..<(1 << 20) + 300_001]
            let chunker = Chunker(gear: gear, parameters: parameters)
            let expected = referenceLengths(data, gear: gear, parameters: parameters)
            XCTAssertGreaterThan(expected.count, 50, "\(parameters)")
            XCTAssertEqual(chunker.chunkLengths(of: data), expected, "\(parameters)")
            XCTAssertTrue(expected.contains { $0 % 2 == 1 }, "odd lengths exercise the first of each pair of bytes")
        }
    }
}
