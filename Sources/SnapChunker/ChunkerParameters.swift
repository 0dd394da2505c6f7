/// Chunk size bounds, fixed for a repository at `init` (changing them would defeat deduplication).
public struct ChunkerParameters: Sendable, Codable, Equatable {
    /// No chunk is shorter than this, except the last chunk of a file.
    public var minSize: Int
    /// The size the cut-point masks aim for; must be a power of two.
    public var averageSize: Int
    /// No chunk is longer than this.
    public var maxSize: Int

    public init(minSize: Int, averageSize: Int, maxSize: Int) {
        self.minSize = minSize; self.averageSize = averageSize; self.maxSize = maxSize
    }

    enum CodingKeys: String, CodingKey {
        case minSize = "min", averageSize = "average", maxSize = "max"
    }

    /// 128 KiB / 256 KiB / 4 MiB: chunks average about 300 KiB, so an edit in a large file
    /// stores about that much again (FORMAT.md, "Parameters", says why these values).
    public static let `default` = ChunkerParameters(minSize: 128 << 10, averageSize: 256 << 10, maxSize: 4 << 20)

    /// A description of what is wrong with these bounds, or `nil` when they are usable.
    public var problem: String? {
        if averageSize < 256 || averageSize.nonzeroBitCount != 1 { return "average chunk size must be a power of two of at least 256 bytes" }
        if minSize < 64 || minSize >= averageSize { return "minimum chunk size must be at least 64 bytes and below the average" }
        if maxSize <= averageSize || maxSize > 1 << 30 { return "maximum chunk size must exceed the average and be at most 1 GiB" }
        return nil
    }
}
