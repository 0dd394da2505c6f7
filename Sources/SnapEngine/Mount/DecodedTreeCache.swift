import SnapCore
import SnapRepository
import Synchronization

/// Decoded trees for a mount's lookups and listings, over a `TreeLoader` (which reads
/// trees by whole packs): a lookup of one name costs a dictionary probe and a binary search
/// instead of decoding its folder again. Bounded by the number of entries held (oldest
/// trees dropped first). Thread-safe.
final class DecodedTreeCache: Sendable {
    private struct State {
        var trees: [BlobID: Tree] = [:]
        var order: [BlobID] = []
        var head = 0
        var nodes = 0
    }

    private let loader: TreeLoader
    private let maxNodes: Int
    private let state = Mutex(State())

    init(repository: Repository, maxNodes: Int) {
        loader = TreeLoader(repository: repository)
        self.maxNodes = max(maxNodes, 1)
    }

    /// The tree `id`; when it is loaded now, the packs of its subtrees are read ahead, as a
    /// walk does, so that browsing further down costs no more requests per folder.
    func tree(_ id: BlobID) throws -> Tree {
        if let tree = state.withLock({ $0.trees[id] }) { return tree }
        let tree = try loader.tree(id)
        loader.prefetch(tree.nodes.lazy.compactMap(\.subtree))
        state.withLock { s in
            guard s.trees[id] == nil else { return }
            s.trees[id] = tree
            s.order.append(id)
            s.nodes += tree.nodes.count
            while s.nodes > maxNodes, s.head < s.order.count - 1 {
                let oldest = s.order[s.head]
                s.head += 1
                if let dropped = s.trees.removeValue(forKey: oldest) { s.nodes -= dropped.nodes.count }
            }
            if s.head > 1024 && s.head * 2 > s.order.count {
                s.order.removeFirst(s.head)
                s.head = 0
            }
        }
        return tree
    }
}
