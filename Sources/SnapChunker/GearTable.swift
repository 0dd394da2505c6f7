/// The 256 random 64-bit values of the gear rolling hash.
///
/// In a repository they come from the chunker key (see FORMAT.md, "Chunking"), so that cut
/// points cannot be predicted without the key.
public struct GearTable: Sendable {
    public let values: [UInt64]

    /// Builds the table from 2048 bytes of key stream, read as 256 little-endian 64-bit words.
    public init(keyStream: [UInt8]) {
        precondition(keyStream.count == 2048, "a gear table needs 2048 bytes of key stream")
        var values = [UInt64](repeating: 0, count: 256)
        for i in 0..<256 {
            var v: UInt64 = 0
            for j in (0..<8).reversed() { v = v << 8 | UInt64(keyStream[i * 8 + j]) }
            values[i] = v
        }
        self.values = values
    }
}
