import SnapChunker
import SnapTestSupport

// Seeded data comes from SnapTestSupport (`seededBytes`), shared with the other test targets.

/// A gear table from 2048 bytes of seeded key stream.
func seededGear(_ seed: UInt64) -> GearTable { GearTable(keyStream: seededBytes(count: 2048, seed: seed)) }

/// Small bounds so that tests on a few MiB see hundreds of chunks.
let smallParameters = ChunkerParameters(minSize: 4 << 10, averageSize: 16 << 10, maxSize: 64 << 10)

/// Large inputs are built and chunked once and shared by the tests that need them.
enum Fixtures {
    static let gear = seededGear(1)
    static let random64MiB = seededBytes(count: 64 << 20, seed: 0x5eed_0001)
    static let random64MiBDefaultLengths = Chunker(gear: gear, parameters: .default).chunkLengths(of: random64MiB)
    static let random8MiB = seededBytes(count: 8 << 20, seed: 0x5eed_0002)
}

/// Start and end offsets of consecutive chunks.
struct Span: Hashable {
    let start: Int
    let end: Int
}

func spans(_ lengths: [Int]) -> [Span] {
    var start = 0
    return lengths.map { length in
        defer { start += length }
        return Span(start: start, end: start + length)
    }
}
