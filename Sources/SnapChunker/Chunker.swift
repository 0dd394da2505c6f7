/// A content-defined chunker: FastCDC's gear rolling hash with normalized chunking.
///
/// Cut points depend only on the bytes near them, so an insertion moves only the
/// boundaries around it and identical content is cut identically wherever it appears.
/// The chunker is a pure function of (gear table, parameters, bytes): `cut` is stateless.
public struct Chunker: Sendable {
    public let parameters: ChunkerParameters
    private let gear: [UInt64]
    /// Checked before the average size: more bits, so cuts are rarer.
    private let strictMask: UInt64
    /// Checked after the average size: fewer bits, so cuts come sooner.
    private let looseMask: UInt64

    public init(gear: GearTable, parameters: ChunkerParameters) {
        self.parameters = parameters
        self.gear = gear.values
        let bits = parameters.averageSize.trailingZeroBitCount
        // Normalization level 2: two bits harder before the average, two bits easier after.
        strictMask = ~UInt64(0) << UInt64(64 - min(bits + 2, 63))
        looseMask = ~UInt64(0) << UInt64(64 - max(bits - 2, 1))
    }

    /// The length of the chunk that starts at the beginning of `buffer`.
    ///
    /// - Parameters:
    ///   - buffer: the unchunked bytes, starting at a chunk boundary.
    ///   - isFinal: `true` when `buffer` holds the rest of the stream. When it is `false`,
    ///     `buffer` must hold at least `parameters.maxSize` bytes.
    /// - Returns: a length in `1...buffer.count` (0 only for an empty buffer).
    public func cut(_ buffer: UnsafeRawBufferPointer, isFinal: Bool) -> Int {
        precondition(isFinal || buffer.count >= parameters.maxSize, "chunker needs maxSize bytes unless at end of stream")
        let count = buffer.count
        if count <= parameters.minSize { return count }
        let limit = min(count, parameters.maxSize)
        let normal = min(limit, parameters.averageSize)
        guard let bytes = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
        return gear.withUnsafeBufferPointer { table -> Int in
            let g = table.baseAddress!  // 256 entries, never empty
            var hash: UInt64 = 0
            var i = parameters.minSize
            while i < normal {
                hash = (hash << 1) &+ g[Int(bytes[i])]
                i += 1
                if hash & strictMask == 0 { return i }
            }
            while i < limit {
                hash = (hash << 1) &+ g[Int(bytes[i])]
                i += 1
                if hash & looseMask == 0 { return i }
            }
            return limit
        }
    }

    /// Splits a whole in-memory buffer into chunk lengths (for tests and benchmarks).
    public func chunkLengths(of data: [UInt8]) -> [Int] {
        data.withUnsafeBytes { all in
            var lengths: [Int] = []
            var offset = 0
            while offset < all.count {
                let n = cut(UnsafeRawBufferPointer(rebasing: all[offset...]), isFinal: true)
                lengths.append(n)
                offset += n
            }
            return lengths
        }
    }
}
