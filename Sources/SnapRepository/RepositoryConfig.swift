import SnapChunker
import SnapCompression
import SnapCore

/// The repository's parameters, fixed at `init` (`config`, encrypted).
public struct RepositoryConfig: Codable, Sendable, Equatable {
    /// Format version; this snap writes and reads 1.
    public var version: Int
    /// A random ID that names the repository (the same on every replica).
    public var id: String
    /// Chunk size bounds.
    public var chunker: ChunkerParameters
    /// Compression algorithm (`zstd`) and default level.
    public var compression: Compression
    /// Packs are closed once they reach this many bytes.
    public var packSize: Int

    public struct Compression: Codable, Sendable, Equatable {
        public var algorithm: String
        public var level: Int
        public init(algorithm: String = "zstd", level: Int) { self.algorithm = algorithm; self.level = level }
    }

    public static let currentVersion = 1
    public static let defaultPackSize = 16 << 20

    public init(version: Int = currentVersion, id: String, chunker: ChunkerParameters = .default,
                compression: Compression = .init(level: 3), packSize: Int = defaultPackSize) {
        self.version = version; self.id = id; self.chunker = chunker; self.compression = compression; self.packSize = packSize
    }

    enum CodingKeys: String, CodingKey {
        case version, id, chunker, compression
        case packSize = "pack_size"
    }

    /// A description of what is wrong, or `nil` when snap can use this config.
    public var problem: String? {
        if let p = chunker.problem { return p }
        if compression.algorithm != "zstd" { return "unknown compression algorithm \(compression.algorithm)" }
        do { try ZstdCompressor.validate(level: compression.level) } catch { return error.description }
        if packSize < 1 << 20 || packSize > 1 << 30 { return "pack size must be between 1 MiB and 1 GiB" }
        return nil
    }
}
