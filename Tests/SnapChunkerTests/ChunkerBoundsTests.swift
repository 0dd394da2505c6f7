import XCTest
import SnapChunker

final class ChunkerBoundsTests: XCTestCase {
    private func assertWithinBounds(_ lengths: [Int], total: Int, _ parameters: ChunkerParameters,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(lengths.reduce(0, +), total, "lengths must cover the input", file: file, line: line)
        for (index, length) in lengths.enumerated() {
            let isLast = index == lengths.count - 1
            XCTAssertLessThanOrEqual(length, parameters.maxSize, "chunk \(index)", file: file, line: line)
            XCTAssertGreaterThanOrEqual(length, isLast ? 1 : parameters.minSize, "chunk \(index)", file: file, line: line)
        }
    }

    // Every chunk but the last lies within [min, max], and the lengths sum to the input length.
    func testSmallParametersStayWithinBounds() {
        let data = Fixtures.random8MiB
        let lengths = Chunker(gear: Fixtures.gear, parameters: smallParameters).chunkLengths(of: data)
        XCTAssertGreaterThan(lengths.count, 100)
        assertWithinBounds(lengths, total: data.count, smallParameters)
    }

    // The same holds for the default 128 KiB / 256 KiB / 4 MiB bounds on 64 MiB.
    func testDefaultParametersStayWithinBounds() {
        assertWithinBounds(Fixtures.random64MiBDefaultLengths, total: Fixtures.random64MiB.count, .default)
    }

    // With default bounds, random data gives chunks a little above the configured average
    // (FORMAT.md, "Parameters": normalization rarely cuts between min and avg).
    func testDefaultMeanChunkLength() {
        let lengths = Fixtures.random64MiBDefaultLengths
        let mean = Double(Fixtures.random64MiB.count) / Double(lengths.count)
        let average = Double(ChunkerParameters.default.averageSize)
        XCTAssertGreaterThanOrEqual(mean, average, "\(lengths.count) chunks")
        XCTAssertLessThanOrEqual(mean, 1.5 * average, "\(lengths.count) chunks")
    }

    // With small bounds the mean also lands near the configured average.
    func testSmallParametersMeanChunkLength() {
        let lengths = Chunker(gear: Fixtures.gear, parameters: smallParameters).chunkLengths(of: Fixtures.random8MiB)
        let mean = Double(Fixtures.random8MiB.count) / Double(lengths.count)
        XCTAssertGreaterThanOrEqual(mean, Double(smallParameters.averageSize) / 2)
        XCTAssertLessThanOrEqual(mean, Double(smallParameters.averageSize) * 2)
    }

    // 20 MiB of zeros is cut deterministically, within bounds, and every full chunk is the same length.
    func testAllZeroBuffer() {
        let zeros = [UInt8](repeating: 0, count: 20 << 20)
        let chunker = Chunker(gear: Fixtures.gear, parameters: .default)
        let lengths = chunker.chunkLengths(of: zeros)
        XCTAssertEqual(chunker.chunkLengths(of: zeros), lengths)
        assertWithinBounds(lengths, total: zeros.count, .default)
        XCTAssertGreaterThan(lengths.count, 2)
        // A stateless chunker sees identical bytes after every cut, so it must cut identically.
        XCTAssertEqual(Set(lengths.dropLast()).count, 1, "\(lengths)")
    }

    // Buffers no longer than the minimum are one chunk; an empty buffer is a zero-length cut.
    func testShortBuffers() {
        let chunker = Chunker(gear: Fixtures.gear, parameters: smallParameters)
        let data = Array(Fixtures.random8MiB.prefix(smallParameters.minSize))
        XCTAssertEqual(data.withUnsafeBytes { chunker.cut($0, isFinal: true) }, smallParameters.minSize)
        XCTAssertEqual(chunker.chunkLengths(of: Array(data.prefix(10))), [10])
        XCTAssertEqual([UInt8]().withUnsafeBytes { chunker.cut($0, isFinal: true) }, 0)
        XCTAssertEqual(chunker.chunkLengths(of: []), [])
    }

    // A non-final cut looks at no more than maxSize bytes: it matches the cut of the whole stream.
    func testNonFinalCutNeedsOnlyMaxSizeBytes() {
        let chunker = Chunker(gear: Fixtures.gear, parameters: smallParameters)
        let data = Fixtures.random8MiB
        var offset = 0
        for _ in 0..<50 {
            let whole = data[offset...].withUnsafeBytes { chunker.cut($0, isFinal: true) }
            let window = data[offset..<offset + smallParameters.maxSize].withUnsafeBytes { chunker.cut($0, isFinal: false) }
            XCTAssertEqual(window, whole, "at offset \(offset)")
            offset += whole
        }
    }

    // The default bounds are valid and obviously bad ones are reported.
    func testParameterProblems() {
        XCTAssertNil(ChunkerParameters.default.problem)
        XCTAssertNil(smallParameters.problem)
        XCTAssertNotNil(ChunkerParameters(minSize: 4096, averageSize: 10_000, maxSize: 65536).problem)
        XCTAssertNotNil(ChunkerParameters(minSize: 16384, averageSize: 16384, maxSize: 65536).problem)
        XCTAssertNotNil(ChunkerParameters(minSize: 4096, averageSize: 16384, maxSize: 16384).problem)
        XCTAssertNotNil(ChunkerParameters(minSize: 32, averageSize: 16384, maxSize: 65536).problem)
    }
}
