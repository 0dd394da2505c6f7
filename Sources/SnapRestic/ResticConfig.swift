import Foundation

/// The repository's `config` (restic `doc/design.rst`, "Repository Format"): its format
/// version (1, or 2 with compression) and ID. The chunker polynomial is read but unused:
/// snap re-chunks content with its own chunker.
public struct ResticConfig: Sendable, Decodable, Equatable {
    public let version: Int
    public let id: String
    public let chunkerPolynomial: String?

    enum CodingKeys: String, CodingKey {
        case version, id, chunkerPolynomial = "chunker_polynomial"
    }
}
