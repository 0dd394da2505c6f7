import SnapCore
import SnapRepository

/// A folder of a snapshot being imported, held in memory until the snapshot is saved:
/// entries come in any order, so no folder's tree can be written before the last entry.
/// Only metadata and content blob IDs are held, never content.
final class ImportFolder {
    /// The folder's own entry, or `nil` while it is only implied by its children's paths.
    var node: Node?
    var children: [[UInt8]: ImportChild] = [:]

    init(node: Node? = nil) { self.node = node }
}

enum ImportChild {
    case folder(ImportFolder)
    /// Anything but a folder; `group` is the hard-link group of a file with several names.
    case leaf(Node, group: Int?)
}

/// The names of one hard-linked file.
struct LinkGroup {
    let content: [BlobID]
    let size: UInt64
    /// Names in the snapshot so far.
    var names: UInt64
    /// The snapshot path of the name stored as the file, once the trees are being built.
    var first: [UInt8]?
}

/// The whole snapshot being imported: its folders and hard-link groups.
struct ImportTree {
    /// Deeper paths are refused: trees are built recursively, and no file system restores them.
    static let maxDepth = 1024

    let root = ImportFolder()
    private(set) var groups: [LinkGroup] = []

    /// The folder at `path`, made (implied) where missing; a leaf in the way is replaced,
    /// as `tar` replaces a file by a folder of the same name.
    mutating func folder(at path: ArraySlice<[UInt8]>) -> ImportFolder {
        var folder = root
        for name in path {
            switch folder.children[name] {
            case .folder(let next)?:
                folder = next
            case .leaf(_, let group)?:
                forget(group)
                fallthrough
            case nil:
                let next = ImportFolder()
                folder.children[name] = .folder(next)
                folder = next
            }
        }
        return folder
    }

    /// Sets a folder's own metadata, keeping what is already below it.
    mutating func setFolder(_ path: [[UInt8]], node: Node) {
        if path.isEmpty { return }  // the root tree carries no metadata (FORMAT.md)
        let parent = folder(at: path.dropLast())
        let name = path[path.count - 1]
        if case .folder(let existing)? = parent.children[name] {
            existing.node = node
        } else {
            if case .leaf(_, let group)? = parent.children[name] { forget(group) }
            parent.children[name] = .folder(ImportFolder(node: node))
        }
    }

    /// Puts a non-folder entry at `path`, replacing what was there (the later entry wins,
    /// as when `tar` extracts an archive holding a name twice).
    mutating func setLeaf(_ path: [[UInt8]], node: Node, group: Int? = nil) {
        let parent = folder(at: path.dropLast())
        let name = path[path.count - 1]
        if case .leaf(_, let old)? = parent.children[name] { forget(old) }
        parent.children[name] = .leaf(node, group: group)
    }

    /// Adds `path` as a further name of the regular file at `target`, with that file's
    /// metadata and content; returns the content, or `nil` when `target` is not a regular
    /// file of this snapshot.
    mutating func link(_ path: [[UInt8]], to target: [[UInt8]]) -> LinkedContent? {
        guard let name = target.last else { return nil }
        var parent = root
        for component in target.dropLast() {
            guard case .folder(let next)? = parent.children[component] else { return nil }
            parent = next
        }
        guard case .leaf(let file, let known)? = parent.children[name], file.type == .file else { return nil }
        let group: Int
        if let known {
            group = known
        } else {
            group = groups.count
            groups.append(LinkGroup(content: file.content, size: file.size, names: 1))
            parent.children[name] = .leaf(file, group: group)
        }
        groups[group].names += 1
        // Metadata belong to the file, not to a name: every name takes the first's (a tar
        // hard-link member has no xattrs, and may be the name restored first).
        var linked = file
        linked.name = path[path.count - 1]
        setLeaf(path, node: linked, group: group)
        return LinkedContent(content: linked.content, size: linked.size)
    }

    /// A name of a hard-linked file was replaced.
    private mutating func forget(_ group: Int?) {
        if let group, groups[group].names > 0 { groups[group].names -= 1 }
    }

    /// Settles a name of a hard-linked file met at `path` as the trees are built, in
    /// snapshot order: the first name stays a file, later ones become *hardlink* nodes
    /// naming it (FORMAT.md, "Hard links"). Every name records how many there are.
    mutating func settle(_ node: inout Node, group: Int, path: [UInt8]) {
        node.links = max(1, groups[group].names)
        if let first = groups[group].first {
            node.type = .hardlink
            node.linkTarget = first
        } else {
            groups[group].first = path
        }
    }
}
