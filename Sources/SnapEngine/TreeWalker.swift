import SnapCore
import SnapRepository

/// Visits the entries of a snapshot's tree depth-first, in name order.
///
/// Not thread-safe: it decodes every tree with one decoder of its own.
public struct TreeWalker {
    private let repository: Repository
    /// `nil` if it could not be made: `loadBlob` then makes one per tree.
    private let decoder: BlobDecoder?

    public init(repository: Repository) {
        self.repository = repository
        decoder = try? BlobDecoder(keys: repository.keys)
    }

    /// Loads and decodes one tree blob.
    public func tree(_ id: BlobID) throws -> Tree {
        do {
            return try Tree.decode(try repository.loadBlob(id, decoder: decoder))
        } catch let e as DecodingFailure {
            throw EngineError.treeDamaged(id: id.short, reason: "\(e)")
        }
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
