import SnapCore
import SnapRepository

/// What prune decides for each pack, built one pack at a time (`add`, then `finish`) so
/// that only the entries of packs to repack are kept: every other pack is remembered by
/// its ID and size.
struct PackClassification {
    /// A pack without its entries.
    struct PackSize: Sendable {
        let id: PackID
        let size: Int
    }

    /// Packs that stay as they are.
    private(set) var keep: [PackID] = []
    /// Packs whose used blobs are copied into new packs, after which they are condemned
    /// (the pack without its entries, and the used entries).
    private(set) var repack: [(pack: IndexedPack, used: [PackEntry])] = []
    /// Packs with no used blob.
    private(set) var condemn: [PackSize] = []
    /// Blobs that are used but in no pack at all (after `finish`).
    private(set) var missing: [BlobID] = []

    private let used: IndexedBlobSet
    private let options: PruneOptions
    private var claimed: Claims
    private var candidates: [(pack: IndexedPack, used: [PackEntry], unusedBytes: Int)] = []

    /// Each used blob is claimed by the first pack (in the order `add` meets them) that holds
    /// it, so duplicates elsewhere count as unused and their space is freed. Claims are one
    /// bit per used blob at its position in `used`, which must be consolidated.
    init(used: IndexedBlobSet, options: PruneOptions) {
        self.used = used
        self.options = options
        claimed = Claims(used)
    }

    /// Packs of `PruneOptions.rewrite` met so far.
    private(set) var rewriteMet: Set<PackID> = []
    /// Packs of `PruneOptions.rewrite` to repack, ahead of every other and outside the budget.
    private var rewrites: [(pack: IndexedPack, used: [PackEntry])] = []

    /// Classifies one pack.
    mutating func add(_ pack: IndexedPack) {
        var usedEntries: [PackEntry] = []
        var usedBytes = 0
        for e in pack.entries where claimed.insert(e.id) {
            usedEntries.append(e)
            usedBytes += Int(e.length)
        }
        if options.rewrite.contains(pack.id) {
            rewriteMet.insert(pack.id)
            if usedEntries.isEmpty {
                condemn.append(PackSize(id: pack.id, size: pack.size))
            } else {
                rewrites.append((IndexedPack(id: pack.id, salt: pack.salt, size: pack.size, entries: []), usedEntries))
            }
            return
        }
        if options.rewriteOnly {
            keep.append(pack.id)
            return
        }
        if usedEntries.isEmpty {
            condemn.append(PackSize(id: pack.id, size: pack.size))
            return
        }
        let unused = pack.size - usedBytes
        if pack.size > 0 && Double(unused) / Double(pack.size) > options.maxUnused && usedEntries.count < pack.entries.count {
            candidates.append((IndexedPack(id: pack.id, salt: pack.salt, size: pack.size, entries: []), usedEntries, unused))
        } else {
            keep.append(pack.id)
        }
    }

    /// Chooses the packs to repack (the most wasteful first, within the byte budget) and
    /// finds used blobs no pack holds.
    mutating func finish() {
        repack = rewrites
        rewrites = []
        var budget = options.maxRepackBytes ?? Int.max
        for c in candidates.sorted(by: { $0.unusedBytes > $1.unusedBytes }) {
            if c.pack.size <= budget {
                repack.append((c.pack, c.used))
                budget -= c.pack.size
            } else {
                keep.append(c.pack.id)
            }
        }
        candidates = []
        let claimed = self.claimed
        missing = used.filter { !claimed.contains($0) }
    }

    /// The used blobs some pack has claimed.
    private struct Claims {
        let used: IndexedBlobSet
        var bits: PositionBits

        init(_ used: IndexedBlobSet) {
            self.used = used
            bits = PositionBits(count: used.positionCount)
        }

        func contains(_ id: BlobID) -> Bool {
            used.position(of: id).map(bits.contains) ?? false
        }

        /// Claims `id` if it is used and no pack has claimed it yet; `false` otherwise. One
        /// search of the used set: at 20 M blobs each is a search of the mapped table.
        mutating func insert(_ id: BlobID) -> Bool {
            guard let p = used.position(of: id) else { return false }
            return bits.insert(p)
        }
    }
}
