import SnapCore
import SnapRepository

/// One pack as an index file describes it, without its entries: what check keeps per pack
/// (about 110 bytes in its table, and the salt) instead of 48 bytes a blob. Two descriptions
/// of a pack agree when their salts, sizes and entry digests do; verifying the pack compares
/// its header's digest. The pack's ID is the key it is kept under.
struct IndexedPackSummary: Sendable {
    let salt: [UInt8]
    let size: Int
    /// The number of entries, and the first one's type (for messages about a missing pack).
    let count: Int
    let firstType: BlobType?
    /// The index file it comes from, as a number the checker gives each file it reads
    /// (4 bytes here rather than a second table of 64-byte entries).
    let source: UInt32
    /// `PackVerifier.digest` of the entries.
    let digest: RawID

    init(_ pack: IndexedPack, source: UInt32) {
        salt = pack.salt
        size = pack.size
        count = pack.entries.count
        firstType = pack.entries.first?.type
        self.source = source
        digest = PackVerifier.digest(of: pack.entries).withUnsafeBytes { RawID(digest: $0) }
    }

    /// The pack `id` with its entries left out.
    func withoutEntries(id: PackID) -> IndexedPack { IndexedPack(id: id, salt: salt, size: size, entries: []) }

    func agrees(with other: IndexedPackSummary) -> Bool {
        salt == other.salt && size == other.size && digest == other.digest
    }
}
