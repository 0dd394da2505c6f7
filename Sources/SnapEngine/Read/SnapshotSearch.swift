import SnapCore
import SnapRepository

/// Finds entries by name or path in snapshots (`snap find`); `BlobUses` finds the files
/// and folders that use a blob (`snap find --blob/--tree/--pack`).
///
/// Each snapshot's tree is walked once; a subtree already searched for another snapshot
/// is not searched again when it has no match (its ID fixes its contents), so searching
/// many snapshots of a slowly changing tree reads each distinct folder about once.
public final class SnapshotSearch {
    public enum Target: Sendable {
        /// Entries whose own name (a pattern without `/`) or path (with `/`) matches with
        /// restic's pattern rules (`FilterPattern.matchesEntry`): unlike restic's `find`, an
        /// entry below a matching folder is not a match by itself. With `ignoringCase`, the
        /// patterns are lower-case and names are lower-cased before matching (`find -i`).
        case patterns([FilterPattern], ignoringCase: Bool)
    }

    private let walker: TreeWalker
    private let target: Target
    /// Subtrees known to hold no match whatever their path: only for patterns that match
    /// names only, which do not depend on the path.
    private var barren: Set<BlobID> = []
    private let pathFree: Bool

    public init(repository: Repository, target: Target) {
        walker = TreeWalker(repository: repository)
        self.target = target
        switch target {
        case let .patterns(patterns, _): pathFree = patterns.allSatisfy(\.isNamePattern)
        }
    }

    /// Calls `found` with the absolute path and node of every matching entry of the tree
    /// `root`, in path order.
    public func search(_ root: BlobID, found: ([UInt8], Node) throws -> Void) throws {
        _ = try search(tree: root, path: [], found: found)
    }

    /// Whether anything below matched.
    private func search(tree id: BlobID, path: [UInt8], found: ([UInt8], Node) throws -> Void) throws -> Bool {
        if pathFree && barren.contains(id) { return false }
        var any = false
        for node in try walker.tree(id).nodes {
            let full = PathBytes.join(path.isEmpty ? [PathBytes.slash] : path, node.name)
            if matches(node, path: full) {
                try found(full, node)
                any = true
            }
            if let subtree = node.subtree, try search(tree: subtree, path: full, found: found) { any = true }
        }
        if !any && pathFree { barren.insert(id) }
        return any
    }

    private func matches(_ node: Node, path: [UInt8]) -> Bool {
        switch target {
        case let .patterns(patterns, ignoringCase):
            var components = pathFree ? [node.name] : FilterPattern.split(path)
            if ignoringCase { components = components.map(CaseFolding.lowercased) }
            return patterns.contains { $0.matchesEntry(components) }
        }
    }
}

extension SnapshotSearch.Target {
    /// Parses `texts` for `.patterns` (lower-cased first when `ignoringCase`).
    /// - Throws: `FilterPatternError` for the first pattern that cannot be used.
    public static func patterns(parsing texts: [PatternText], ignoringCase: Bool = false) throws(FilterPatternError) -> Self {
        var parsed: [FilterPattern] = []
        for text in texts { parsed.append(try FilterPattern(ignoringCase ? text.lowercased : text)) }
        return .patterns(parsed, ignoringCase: ignoringCase)
    }
}
