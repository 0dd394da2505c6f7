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
    init(packs: [IndexedPack], used: Set<BlobID>, options: PruneOptions) {
        var claimed: Set<BlobID> = []
        var candidates: [(pack: IndexedPack, used: [PackEntry], unusedBytes: Int)] = []
        for pack in packs {
            var usedEntries: [PackEntry] = []
            var usedBytes = 0
            for e in pack.entries where used.contains(e.id) && claimed.insert(e.id).inserted {
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
        missing = used.subtracting(claimed).sorted()
    }
}
