import SnapCore
import SnapRepository

/// Visits the entries of a snapshot's tree depth-first, in name order.
///
/// Trees are read through a `TreeLoader`: by whole packs, and when a tree is loaded the
/// packs of its subtrees are read at once, several at a time, so a walk costs about one
/// request per pack of trees.
public struct TreeWalker {
    private let loader: TreeLoader

    public init(repository: Repository, options: TreeLoader.Options = TreeLoader.Options()) {
        loader = TreeLoader(repository: repository, options: options)
    }

    /// Loads and decodes one tree blob, and reads the packs of its subtrees ahead.
    ///
    /// - Throws: `EngineError.treeDamaged` when it does not decode as a tree; the errors of
    ///   `Repository.loadBlob` when it cannot be read.
    public func tree(_ id: BlobID) throws -> Tree {
        let tree = try loader.tree(id)
        loader.prefetch(tree.nodes.lazy.compactMap(\.subtree))
        return tree
    }

    /// Calls `visit` with the absolute snapshot path and node of every entry below `root`
    /// that lies under `prefix` (raw path bytes; `/` or empty for everything).
    ///
    /// - Parameter levels: how many levels below `prefix` to visit (the entry at `prefix`
    ///   itself, then its children, …); all when `nil`. Deeper folders are not read.
    public func walk(_ root: BlobID, under prefix: [UInt8] = [], levels: Int? = nil,
                     _ visit: ([UInt8], Node) throws -> Void) throws {
        let wanted = PathBytes.components(prefix)
        let limit = levels.map { max(wanted.count, 1) + $0 - 1 }
        try walk(root, path: [], depth: 0, wanted: wanted, limit: limit, visit)
    }

    private func walk(_ id: BlobID, path: [UInt8], depth: Int, wanted: [[UInt8]], limit: Int?,
                      _ visit: ([UInt8], Node) throws -> Void) throws {
        for node in try tree(id).nodes {
            if depth < wanted.count && node.name != wanted[depth] { continue }
            let nodePath = PathBytes.join(path.isEmpty ? [PathBytes.slash] : path, node.name)
            if depth + 1 >= wanted.count { try visit(nodePath, node) }
            if let limit, depth + 1 >= limit { continue }
            if let subtree = node.subtree { try walk(subtree, path: nodePath, depth: depth + 1, wanted: wanted, limit: limit, visit) }
        }
    }
}
