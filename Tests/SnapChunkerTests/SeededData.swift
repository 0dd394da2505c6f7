import SnapChunker

/// SplitMix64 (Steele, Lea and Flood): a small seeded generator so that every run sees the same data.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// `count` pseudo-random bytes from `seed`, filled a 64-bit word at a time (fast in debug builds).
func seededBytes(count: Int, seed: UInt64) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        let raw = UnsafeMutableRawBufferPointer(buffer)
        var generator = SplitMix64(state: seed)
        var offset = 0
        while offset + 8 <= count {
            raw.storeBytes(of: generator.next().littleEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < count {
            raw[offset] = UInt8(truncatingIfNeeded: generator.next())
            offset += 1
        }
        initialized = count
    }
}

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
