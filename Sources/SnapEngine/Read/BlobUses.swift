import SnapCore
import SnapRepository

/// Finds the files and folders of snapshots that use given blobs (`snap find --blob`,
/// `--tree`, `--pack`, for damage reports): each file whose content holds one, each folder
/// whose tree is one.
///
/// A subtree already searched without a use (in another snapshot) is not searched again:
/// its ID fixes its contents, so searching many snapshots of a slowly changing tree reads
/// each distinct folder about once.
public final class BlobUses {
    /// One use of a blob searched for.
    public struct Use {
        /// The blob: a data blob the file's content holds, or the tree the folder is.
        public let id: BlobID
        public let isTree: Bool
        /// The file's or folder's absolute path.
        public let path: [UInt8]
        /// The tree that lists the file or folder (for the root folder, its own tree).
        public let parentTree: BlobID
        /// The file or folder; `nil` for the root folder, which has no node.
        public let node: Node?
    }

    /// Which uses count: `find --blob` looks for data blobs in files' content, `--tree` for
    /// folders' trees, as restic's; `--pack` for both.
    public struct Kinds: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let data = Kinds(rawValue: 1)
        public static let tree = Kinds(rawValue: 2)
    }

    private let walker: TreeWalker
    private let ids: Set<BlobID>
    private let kinds: Kinds
    private var barren: Set<BlobID> = []

    public init(repository: Repository, ids: Set<BlobID>, kinds: Kinds = [.data, .tree]) {
        walker = TreeWalker(repository: repository)
        self.ids = ids
        self.kinds = kinds
    }

    /// Calls `found` for every use in the tree `root`, in path order: each distinct blob
    /// searched for in a file's content once, and each folder that is a tree searched for
    /// (the root too, with path `/`).
    public func search(_ root: BlobID, found: (Use) throws -> Void) throws {
        if kinds.contains(.tree) && ids.contains(root) { try found(Use(id: root, isTree: true, path: [PathBytes.slash], parentTree: root, node: nil)) }
        _ = try search(tree: root, path: [], found: found)
    }

    /// Whether anything below was a use.
    private func search(tree id: BlobID, path: [UInt8], found: (Use) throws -> Void) throws -> Bool {
        if barren.contains(id) { return false }
        var any = false
        for node in try walker.tree(id).nodes {
            let full = PathBytes.join(path.isEmpty ? [PathBytes.slash] : path, node.name)
            var reported: Set<BlobID> = []
            for blob in node.content where kinds.contains(.data) && ids.contains(blob) && reported.insert(blob).inserted {
                try found(Use(id: blob, isTree: false, path: full, parentTree: id, node: node))
                any = true
            }
            if let subtree = node.subtree {
                if kinds.contains(.tree) && ids.contains(subtree) {
                    try found(Use(id: subtree, isTree: true, path: full, parentTree: id, node: node))
                    any = true
                }
                if try search(tree: subtree, path: full, found: found) { any = true }
            }
        }
        if !any { barren.insert(id) }
        return any
    }
}
