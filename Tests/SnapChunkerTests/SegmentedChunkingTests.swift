import XCTest
import SnapChunker
import SnapTestSupport

/// Chunking in segments and resynchronising at the seams gives exactly the chunks of one
/// sequential pass, wherever the seams fall.
final class SegmentedChunkingTests: XCTestCase {
    private let chunker = Chunker(gear: Fixtures.gear, parameters: smallParameters)
    private let data = Array(Fixtures.random8MiB[..<(2 << 20)])
    private lazy var whole = chunker.chunkLengths(of: data)

    /// Seams every `size` bytes.
    private func evenSeams(_ size: Int, count: Int) -> [Int] { Array(stride(from: size, to: count, by: size)) }

    private func assertExact(_ data: [UInt8], seams: [Int], expected: [Int]? = nil, _ label: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        let sequential = expected ?? chunker.chunkLengths(of: data)
        XCTAssertEqual(chunker.segmentedChunkLengths(of: data, seams: seams), sequential, label, file: file, line: line)
    }

    // Segments from one byte (a seam everywhere in a region) to several chunks long.
    func testEvenSegmentsOfEverySize() {
        let p = smallParameters
        for size in [p.minSize - 1, p.minSize, p.minSize + 1, p.averageSize, p.maxSize - 1, p.maxSize, p.maxSize + 1, 100_003, 1 << 20] {
            assertExact(data, seams: evenSeams(size, count: data.count), expected: whole, "segments of \(size) bytes")
        }
        // Tiny segments: many seams inside each chunk, the true chain crosses several segments at once.
        let head = Array(data[..<(48 << 10)])
        for size in [1, 7, 64, 1000] {
            assertExact(head, seams: evenSeams(size, count: head.count), "segments of \(size) bytes")
        }
    }

    // A seam at every true boundary shifted by the same amount: on a boundary, just before
    // and after it, inside the minimum-size region, at the hash window, near a maximum chunk.
    func testSeamsAtEachOffsetFromTheTrueBoundaries() {
        let p = smallParameters
        let boundaries = Array(whole.reduce(into: [0]) { $0.append($0.last! + $1) }.dropFirst().dropLast())
        for shift in [-1, 0, 1, 63, 64, 65, p.minSize - 1, p.minSize, p.minSize + 1, p.averageSize, p.maxSize - 1, p.maxSize] {
            let seams = Set(boundaries.map { $0 + shift }.filter { $0 > 0 && $0 < data.count }).sorted()
            assertExact(data, seams: seams, expected: whole, "seams at boundaries \(shift >= 0 ? "+" : "")\(shift)")
        }
    }

    func testRandomSeams() {
        var generator = SplitMix64(seed: 0x5ea3)
        for round in 0..<20 {
            let count = Int.random(in: 1...40, using: &generator)
            let seams = Set((0..<count).map { _ in Int.random(in: 1..<data.count, using: &generator) }).sorted()
            assertExact(data, seams: seams, expected: whole, "round \(round)")
        }
    }

    // A run without cut points gives maximum chunks; chains that start out of step with
    // them never meet, and the true chain is followed through whole segments.
    func testRunsWithoutCutPoints() {
        let p = smallParameters
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        for seams in [evenSeams(p.maxSize, count: zeros.count), evenSeams(p.maxSize + 1, count: zeros.count),
                      evenSeams(5000, count: zeros.count), [1, 2, 3, p.maxSize - 1, 3 * p.maxSize + 17]] {
            assertExact(zeros, seams: seams, "zeros, seams \(seams.prefix(3))…")
        }
        // Random data around a long zero run: the chains meet again after it.
        let mixed = Array(data[..<(300 << 10)]) + zeros[..<(500 << 10)] + Array(data[(300 << 10)..<(700 << 10)])
        for size in [p.minSize + 3, p.maxSize - 5, 77_777] {
            assertExact(mixed, seams: evenSeams(size, count: mixed.count), "random, zeros, random; segments of \(size)")
        }
    }

    // The repository's default sizes over 64 MiB, in segments of the sizes the backup uses.
    func testDefaultParametersLargeSegments() {
        let chunker = Chunker(gear: Fixtures.gear, parameters: .default)
        let data = Fixtures.random64MiB
        for size in [4 << 20, 8 << 20, (8 << 20) + 12345] {
            XCTAssertEqual(chunker.segmentedChunkLengths(of: data, seams: evenSeams(size, count: data.count)),
                           Fixtures.random64MiBDefaultLengths, "segments of \(size)")
        }
    }

    // The method pays only where the chains meet soon after a seam: on random data the
    // true chain runs at most a few chunks into a segment before it meets the guessed one.
    func testChainsMeetWithinAFewChunks() {
        data.withUnsafeBytes { stream in
            var steps = 0
            let chunker = self.chunker
            let next = { (p: Int) in chunker.chunkEnd(in: stream, from: p) }
            let counted = { (p: Int) -> Int in steps += 1; return next(p) }
            let size = 100_003
            var entry = 0
            var worst = 0
            for start in stride(from: 0, to: data.count, by: size) {
                let end = min(data.count, start + size)
                let guessed = SegmentedChunking.chain(from: start, end: end, next: next)
                steps = 0
                entry = SegmentedChunking.resynchronise(entry: entry, guessed: guessed, end: end, next: counted).last!
                worst = max(worst, steps)
            }
            XCTAssertLessThanOrEqual(worst, 4, "chunks chunked again after a seam, at most")
        }
    }

    func testShortStreams() {
        XCTAssertEqual(chunker.segmentedChunkLengths(of: [], seams: []), [])
        XCTAssertEqual(chunker.segmentedChunkLengths(of: [1, 2, 3], seams: [1, 2]), [3])
    }

    // The resynchronisation itself: where the chains meet, and what leaves a segment.
    func testResynchroniseTakesTheGuessedChainWhereTheyMeet() {
        // A toy `next`: chunks end at multiples of 10.
        let next = { (p: Int) in (p / 10 + 1) * 10 }
        let guessed = SegmentedChunking.chain(from: 25, end: 60, next: next)
        XCTAssertEqual(guessed, [25, 30, 40, 50, 60])
        XCTAssertEqual(SegmentedChunking.resynchronise(entry: 30, guessed: guessed, end: 60, next: next), [30, 40, 50, 60])
        XCTAssertEqual(SegmentedChunking.resynchronise(entry: 27, guessed: guessed, end: 60, next: next), [27, 30, 40, 50, 60])
        XCTAssertEqual(SegmentedChunking.resynchronise(entry: 70, guessed: guessed, end: 60, next: next), [70], "entry past the segment")
        // Chains that never meet: the true one is followed to the end.
        let step = { (p: Int) in p + 10 }
        XCTAssertEqual(SegmentedChunking.resynchronise(entry: 21, guessed: [25, 35, 45, 55, 65], end: 60, next: step), [21, 31, 41, 51, 61])
    }
}
