import SnapCore
import SnapRepository
import Synchronization

/// Decoded trees for a mount's lookups and listings, over a `TreeLoader` (which reads
/// trees by whole packs): a lookup of one name costs a dictionary probe and a binary search
/// instead of decoding its folder again. Thread-safe.
///
/// Bounded by the number of entries held, least recently used trees dropped first, except
/// the trees of the last `recentUses` uses: every lookup walks from the snapshot's root, so
/// a folder larger than the bound must stay beside the folders above it. Dropping the
/// oldest tree first (as this did) dropped a folder of 100,000 entries each time the root
/// was read again, and decoded it again for every name looked up in it.
final class DecodedTreeCache: Sendable {
    private struct State {
        var trees: [BlobID: (tree: Tree, used: Int)] = [:]
        /// Uses in order; an entry is stale when its tree was used again since (or dropped).
        var uses: [(id: BlobID, used: Int)] = []
        var head = 0
        var nodes = 0
        var clock = 0
        var loads = 0
    }

    /// Uses after which a tree may be dropped (a lookup uses one tree per folder on its path).
    static let recentUses = 64

    private let loader: TreeLoader
    private let maxNodes: Int
    private let state = Mutex(State())

    init(repository: Repository, maxNodes: Int) {
        loader = TreeLoader(repository: repository)
        self.maxNodes = max(maxNodes, 1)
    }

    /// How many trees were decoded (for tests).
    var loads: Int { state.withLock { $0.loads } }

    /// The tree `id`; when it is loaded now, the packs of its subtrees are read ahead, as a
    /// walk does, so that browsing further down costs no more requests per folder.
    func tree(_ id: BlobID) throws -> Tree {
        if let tree = state.withLock({ s -> Tree? in
            guard let tree = s.trees[id]?.tree else { return nil }
            Self.use(id, tree, in: &s)
            return tree
        }) { return tree }
        let tree = try loader.tree(id)
        loader.prefetch(tree.nodes.lazy.compactMap(\.subtree))
        state.withLock { s in
            s.loads += 1
            if s.trees[id] == nil { s.nodes += tree.nodes.count }
            Self.use(id, tree, in: &s)
            evict(&s)
        }
        return tree
    }

    private static func use(_ id: BlobID, _ tree: Tree, in s: inout State) {
        s.clock += 1
        s.trees[id] = (tree, s.clock)
        s.uses.append((id, s.clock))
        // Stale uses pile up with hits: rebuilt from the trees when they outnumber them.
        if s.uses.count - s.head > 2 * s.trees.count + 1024 {
            s.uses = s.trees.map { ($0.key, $0.value.used) }.sorted { $0.used < $1.used }
            s.head = 0
        }
    }

    private func evict(_ s: inout State) {
        while s.nodes > maxNodes, s.head < s.uses.count {
            let (id, used) = s.uses[s.head]
            guard let held = s.trees[id], held.used == used else { s.head += 1; continue }
            guard s.clock - used >= Self.recentUses else { break }
            s.head += 1
            s.trees.removeValue(forKey: id)
            s.nodes -= held.tree.nodes.count
        }
        if s.head > 1024 && s.head * 2 > s.uses.count {
            s.uses.removeFirst(s.head)
            s.head = 0
        }
    }
}
