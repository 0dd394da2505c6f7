import SnapCore
import SnapRepository

/// One difference between two snapshots' trees.
public struct TreeChange: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// In the second snapshot only.
        case added = "+"
        /// In the first snapshot only.
        case removed = "-"
        /// A file whose content differs.
        case modified = "M"
        /// The entry's type differs (a file became a folder, a symlink…).
        case typeChanged = "T"
        /// Only metadata differs (mode, owner, times, xattrs, link target of nothing else).
        case metadata = "U"
    }

    public let kind: Kind
    /// Absolute snapshot path; folders end with `/`, as restic prints them.
    public let path: [UInt8]
}

/// What a comparison found, in totals.
public struct TreeDiffStatistics: Sendable, Encodable {
    public var filesAdded = 0, filesRemoved = 0, filesModified = 0
    public var foldersAdded = 0, foldersRemoved = 0
    public var otherAdded = 0, otherRemoved = 0
    public var metadataChanged = 0, typeChanged = 0
    /// Sizes of added and removed files (whole files; a modified file counts both ways).
    public var bytesAdded: UInt64 = 0, bytesRemoved: UInt64 = 0

    enum CodingKeys: String, CodingKey {
        case filesAdded = "files_added", filesRemoved = "files_removed", filesModified = "files_modified"
        case foldersAdded = "dirs_added", foldersRemoved = "dirs_removed"
        case otherAdded = "others_added", otherRemoved = "others_removed"
        case metadataChanged = "metadata_changed", typeChanged = "type_changed"
        case bytesAdded = "bytes_added", bytesRemoved = "bytes_removed"
    }
}

/// Compares two trees of the same repository (`snap diff`).
///
/// Folders whose subtree IDs are equal are equal all the way down and are not read, so a
/// comparison costs reading only the folders on the way to what changed: two snapshots of
/// a large tree with one changed file read a handful of trees.
public struct TreeDiff {
    private let walker: TreeWalker
    /// Also report entries whose metadata alone changed.
    private let metadata: Bool

    public init(repository: Repository, metadata: Bool = false) {
        walker = TreeWalker(repository: repository)
        self.metadata = metadata
    }

    /// Calls `report` with each change, in path order; returns the totals.
    @discardableResult
    public func compare(_ old: BlobID, _ new: BlobID, report: (TreeChange) throws -> Void) throws -> TreeDiffStatistics {
        var stats = TreeDiffStatistics()
        try compare(old, new, path: [], stats: &stats, report: report)
        return stats
    }

    private func compare(_ old: BlobID, _ new: BlobID, path: [UInt8], stats: inout TreeDiffStatistics,
                         report: (TreeChange) throws -> Void) throws {
        guard old != new else { return }
        let a = try walker.tree(old).nodes, b = try walker.tree(new).nodes
        var i = 0, j = 0
        while i < a.count || j < b.count {
            let order: Int
            if i == a.count { order = 1 } else if j == b.count { order = -1 } else {
                order = a[i].name == b[j].name ? 0 : (a[i].name.lexicographicallyPrecedes(b[j].name) ? -1 : 1)
            }
            if order < 0 {
                try side(a[i], path: path, added: false, stats: &stats, report: report); i += 1
            } else if order > 0 {
                try side(b[j], path: path, added: true, stats: &stats, report: report); j += 1
            } else {
                try both(a[i], b[j], path: path, stats: &stats, report: report); i += 1; j += 1
            }
        }
    }

    private func display(_ node: Node, path: [UInt8]) -> [UInt8] {
        let full = PathBytes.join(path.isEmpty ? [PathBytes.slash] : path, node.name)
        return node.type == .directory ? full + [PathBytes.slash] : full
    }

    /// An entry on one side only, and everything below it.
    private func side(_ node: Node, path: [UInt8], added: Bool, stats: inout TreeDiffStatistics,
                      report: (TreeChange) throws -> Void) throws {
        try report(TreeChange(kind: added ? .added : .removed, path: display(node, path: path)))
        switch node.type {
        case .directory:
            if added { stats.foldersAdded += 1 } else { stats.foldersRemoved += 1 }
            guard let subtree = node.subtree else { return }
            let full = PathBytes.join(path.isEmpty ? [PathBytes.slash] : path, node.name)
            for child in try walker.tree(subtree).nodes {
                try side(child, path: full, added: added, stats: &stats, report: report)
            }
        case .file, .hardlink:
            if added { stats.filesAdded += 1; stats.bytesAdded += node.size } else { stats.filesRemoved += 1; stats.bytesRemoved += node.size }
        default:
            if added { stats.otherAdded += 1 } else { stats.otherRemoved += 1 }
        }
    }

    private func both(_ a: Node, _ b: Node, path: [UInt8], stats: inout TreeDiffStatistics,
                      report: (TreeChange) throws -> Void) throws {
        guard a.type == b.type else {
            stats.typeChanged += 1
            try report(TreeChange(kind: .typeChanged, path: display(b, path: path)))
            return
        }
        if a.type == .directory {
            if metadata && !Self.sameMetadata(a, b) {
                stats.metadataChanged += 1
                try report(TreeChange(kind: .metadata, path: display(b, path: path)))
            }
            if let old = a.subtree, let new = b.subtree {
                try compare(old, new, path: PathBytes.join(path.isEmpty ? [PathBytes.slash] : path, a.name), stats: &stats, report: report)
            }
            return
        }
        if a.content != b.content || a.size != b.size || a.linkTarget != b.linkTarget {
            stats.filesModified += 1
            stats.bytesRemoved += a.size
            stats.bytesAdded += b.size
            try report(TreeChange(kind: .modified, path: display(b, path: path)))
        } else if metadata && !Self.sameMetadata(a, b) {
            stats.metadataChanged += 1
            try report(TreeChange(kind: .metadata, path: display(b, path: path)))
        }
    }

    private static func sameMetadata(_ a: Node, _ b: Node) -> Bool {
        a.mode == b.mode && a.uid == b.uid && a.gid == b.gid && a.user == b.user && a.group == b.group
            && a.mtime == b.mtime && a.xattrs == b.xattrs && a.rdev == b.rdev
    }
}
