import SnapTestSupport
import XCTest
import SnapChunker

final class ChunkerShiftTests: XCTestCase {
    /// How many chunks of `original` and `edited` have no identical counterpart, when `edited`
    /// is `original` with `inserted` bytes added at `offset`. Chunks entirely before the edit
    /// keep their place; chunks entirely after it move by `inserted`.
    private func differingChunks(original: [Int], edited: [Int], offset: Int, inserted: Int) -> Int {
        let moved = Set(spans(original).compactMap { span -> Span? in
            if span.end <= offset { return span }
            if span.start >= offset { return Span(start: span.start + inserted, end: span.end + inserted) }
            return nil  // spans the edit: cannot survive unchanged
        })
        let editedSpans = Set(spans(edited))
        return original.count - moved.intersection(editedSpans).count + editedSpans.subtracting(moved).count
    }

    // Inserting 100 bytes mid-stream keeps every chunk before the edit and re-synchronises after it.
    func testInsertionInTheMiddleResynchronises() {
        let original = Fixtures.random64MiB
        let offset = original.count / 2 + 12_345
        var edited = original
        edited.insert(contentsOf: seededBytes(count: 100, seed: 99), at: offset)
        let chunker = Chunker(gear: Fixtures.gear, parameters: .default)
        let before = Fixtures.random64MiBDefaultLengths
        let after = chunker.chunkLengths(of: edited)
        XCTAssertEqual(after.reduce(0, +), original.count + 100)

        let untouched = spans(before).prefix { $0.end <= offset }.count
        XCTAssertGreaterThan(untouched, 5)
        XCTAssertEqual(Array(after.prefix(untouched)), Array(before.prefix(untouched)), "chunks before the edit")

        let differing = differingChunks(original: before, edited: after, offset: offset, inserted: 100)
        XCTAssertGreaterThan(differing, 0, "the chunk holding the edit must change")
        XCTAssertLessThanOrEqual(differing, 3, "chunks after the edit must re-synchronise")
        // Re-synchronised means the trailing chunks are the same lengths as before.
        XCTAssertEqual(Array(after.suffix(5)), Array(before.suffix(5)))
    }

    // A single byte prepended to the stream only disturbs the first chunk or two.
    func testPrependedByteResynchronises() {
        let chunker = Chunker(gear: Fixtures.gear, parameters: smallParameters)
        let original = Fixtures.random8MiB
        let before = chunker.chunkLengths(of: original)
        let after = chunker.chunkLengths(of: [0x42] + original)
        XCTAssertLessThanOrEqual(differingChunks(original: before, edited: after, offset: 0, inserted: 1), 3)
    }
}
