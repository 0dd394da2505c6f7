import SnapCore
import SnapRepository

/// What prune decides for each pack.
struct PackClassification {
    /// Packs that stay as they are.
    var keep: [IndexedPack] = []
    /// Packs whose used blobs are copied into new packs, after which they are condemned.
    var repack: [(pack: IndexedPack, used: [PackEntry])] = []
    /// Packs with no used blob.
    var condemn: [IndexedPack] = []
    /// Blobs that are used but in no pack at all.
    var missing: [BlobID] = []

    /// Classifies `packs`. Each used blob is claimed by the first pack (in the order given)
    /// that holds it, so duplicates elsewhere count as unused and their space is freed.
    /// Claims are one bit per used blob at its position in `used` (a hash set only for
    /// blobs inserted after `used` was last consolidated).
    init(packs: [IndexedPack], used: IndexedBlobSet, options: PruneOptions) {
        var claimed = Claims(used)
        var candidates: [(pack: IndexedPack, used: [PackEntry], unusedBytes: Int)] = []
        for pack in packs {
            var usedEntries: [PackEntry] = []
            var usedBytes = 0
            for e in pack.entries where used.contains(e.id) && claimed.insert(e.id) {
                usedEntries.append(e)
                usedBytes += Int(e.length)
            }
            if usedEntries.isEmpty {
                condemn.append(pack)
                continue
            }
            let unused = pack.size - usedBytes
            if pack.size > 0 && Double(unused) / Double(pack.size) > options.maxUnused && usedEntries.count < pack.entries.count {
                candidates.append((pack, usedEntries, unused))
            } else {
                keep.append(pack)
            }
        }
        // Repack the most wasteful packs first, within the byte budget.
        var budget = options.maxRepackBytes ?? Int.max
        for c in candidates.sorted(by: { $0.unusedBytes > $1.unusedBytes }) {
            if c.pack.size <= budget {
                repack.append((c.pack, c.used))
                budget -= c.pack.size
            } else {
                keep.append(c.pack)
            }
        }
        missing = used.filter { !claimed.contains($0) }
    }

    /// The used blobs some pack has claimed.
    private struct Claims {
        let used: IndexedBlobSet
        var bits: PositionBits
        var others: Set<BlobID> = []

        init(_ used: IndexedBlobSet) {
            self.used = used
            bits = PositionBits(count: used.positionCount)
        }

        func contains(_ id: BlobID) -> Bool {
            if let p = used.position(of: id) { return bits.contains(p) }
            return others.contains(id)
        }

        /// Claims a used blob; `true` when no pack had.
        mutating func insert(_ id: BlobID) -> Bool {
            if let p = used.position(of: id) { return bits.insert(p) }
            return others.insert(id).inserted
        }
    }
}
