/// A content-defined chunker: FastCDC's gear rolling hash with normalized chunking.
///
/// Cut points depend only on the bytes near them, so an insertion moves only the
/// boundaries around it and identical content is cut identically wherever it appears.
/// The chunker is a pure function of (gear table, parameters, bytes): `cut` and `boundary`
/// are stateless.
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

    /// Where the chunk that starts at the beginning of a buffer ends, as far as the
    /// buffer's bytes tell.
    public enum Boundary: Equatable, Sendable {
        /// The chunk is this many bytes long.
        case at(Int)
        /// No cut point among the bytes given; ask again with more bytes and this `checked`.
        case beyond(checked: Int)
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
        switch boundary(in: buffer, isFinal: isFinal) {
        case .at(let length): return length
        case .beyond(let checked): return checked  // not reached: the precondition rules it out
        }
    }

    /// Looks for the end of the chunk that starts at the beginning of `buffer`, which may
    /// hold less than a maximum chunk: a reader can then look again once more bytes have
    /// come, without scanning the first ones again.
    ///
    /// The rolling hash at a position depends only on the 64 bytes before it, so resuming
    /// at `checked` re-hashes at most 64 bytes and finds exactly the cut points of one
    /// scan over the whole chunk.
    ///
    /// - Parameters:
    ///   - buffer: the unchunked bytes, starting at a chunk boundary.
    ///   - isFinal: `true` when `buffer` holds the rest of the stream.
    ///   - checked: what an earlier call on a prefix of these bytes returned in
    ///     `.beyond(checked:)`; 0 for a first look.
    /// - Returns: `.at(length)` with a length in `1...buffer.count` once the chunk's end is
    ///   known (always when `isFinal` or when `buffer` holds a maximum chunk), otherwise
    ///   `.beyond(checked:)`.
    public func boundary(in buffer: UnsafeRawBufferPointer, isFinal: Bool, checked: Int = 0) -> Boundary {
        let count = buffer.count
        let (minSize, maxSize) = (parameters.minSize, parameters.maxSize)
        let decided = isFinal || count >= maxSize
        if count <= minSize { return decided ? .at(count) : .beyond(checked: count) }
        let limit = min(count, maxSize)
        let normal = min(limit, parameters.averageSize)
        guard let bytes = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .at(0) }
        let end = gear.withUnsafeBufferPointer { table -> Int? in
            let g = table.baseAddress!  // 256 entries, never empty
            var hash: UInt64 = 0
            let resume = max(minSize, checked)
            var i = max(minSize, resume - 64)
            // Positions up to `resume` were checked before: only rebuild the hash there.
            while i < resume {
                hash = (hash << 1) &+ g[Int(bytes[i])]
                i += 1
            }
            if let end = Self.scan(bytes, from: &i, to: normal, hash: &hash, mask: strictMask, gear: g) { return end }
            if let end = Self.scan(bytes, from: &i, to: limit, hash: &hash, mask: looseMask, gear: g) { return end }
            return nil
        }
        if let end { return .at(end) }
        return decided ? .at(limit) : .beyond(checked: limit)
    }

    /// Rolls the hash over `bytes[i..<end]` and returns the position just after the first
    /// byte where `hash & mask == 0`; or `nil`, with `i` and `hash` moved on to `end`.
    ///
    /// Two bytes per step: the hash after both is `(hash << 2) + (g[a] << 1) + g[b]`, so the
    /// chain from one step to the next is one shift and one add, and the table lookups run
    /// beside it. The hash after the first byte is still tested, so the cuts are exactly
    /// those of one byte at a time.
    @inline(__always)
    private static func scan(_ bytes: UnsafePointer<UInt8>, from i: inout Int, to end: Int, hash: inout UInt64,
                             mask: UInt64, gear g: UnsafePointer<UInt64>) -> Int? {
        var h = hash
        var j = i
        while j + 2 <= end {
            let a = g[Int(bytes[j])], b = g[Int(bytes[j + 1])]
            let first = (h << 1) &+ a
            h = (h << 2) &+ ((a << 1) &+ b)
            if first & mask == 0 { return j + 1 }
            j += 2
            if h & mask == 0 { return j }
        }
        if j < end {
            h = (h << 1) &+ g[Int(bytes[j])]
            j += 1
            if h & mask == 0 { return j }
        }
        i = j; hash = h
        return nil
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
