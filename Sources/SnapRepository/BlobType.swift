/// What a blob holds. Data and tree blobs are kept in separate packs.
public enum BlobType: UInt8, Sendable, Codable, CustomStringConvertible {
    /// A chunk of file content.
    case data = 0
    /// An encoded directory (see `Tree` in the engine).
    case tree = 1

    public var description: String { self == .data ? "data" : "tree" }
}
