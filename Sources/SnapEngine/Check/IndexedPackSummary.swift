import SnapCore
import SnapRepository

/// One pack as an index file describes it, without its entries: what check keeps per pack
/// (about 150 bytes) instead of 48 bytes a blob. Two descriptions of a pack agree when their
/// salts, sizes and entry digests do; verifying the pack compares its header's digest.
struct IndexedPackSummary: Sendable {
    let id: PackID
    let salt: [UInt8]
    let size: Int
    /// The number of entries, and the first one's type (for messages about a missing pack).
    let count: Int
    let firstType: BlobType?
    /// `PackVerifier.digest` of the entries.
    let digest: [UInt8]

    init(_ pack: IndexedPack) {
        id = pack.id
        salt = pack.salt
        size = pack.size
        count = pack.entries.count
        firstType = pack.entries.first?.type
        digest = PackVerifier.digest(of: pack.entries)
    }

    /// The pack with its entries left out.
    var withoutEntries: IndexedPack { IndexedPack(id: id, salt: salt, size: size, entries: []) }

    func agrees(with other: IndexedPackSummary) -> Bool {
        salt == other.salt && size == other.size && digest == other.digest
    }
}
