import SnapCore
import SnapRepository

/// A folder of a snapshot being imported, kept until the snapshot is saved: entries come
/// in any order, so no folder's tree can be written before the last entry. Only metadata
/// and content blob IDs are kept, never content; those of a sealed folder wait on disk.
final class ImportFolder {
    /// The folder's own entry, or `nil` while it is only implied by its children's paths.
    var node: Node?
    /// Its entries; while it is sealed, only its subfolders.
    var children: [[UInt8]: ImportChild] = [:]
    /// Where its other entries wait while it is sealed (`ImportSpill`); `nil` when open.
    var spilled: Range<Int>?
    /// How often it was opened again after a seal.
    var reopenings = 0

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
///
/// Memory: archives list a folder's entries together (tar writes them depth first), so a
/// folder the entries have left is sealed: its entries other than subfolders go to a
/// temporary file (`ImportSpill`) and come back when it is used again, at the latest when
/// the trees are built. What stays in memory is each folder's own entry and subfolders,
/// and the entries of the folders leading to the last one. A folder opened again more
/// than `maxReopenings` times (an archive that keeps going back to it, or hard links into
/// it) stays open, so that no archive order costs more than a few rewrites of a folder.
struct ImportTree {
    /// Deeper paths are refused: trees are built recursively, and a path this deep is
    /// already PATH_MAX (4,096 bytes) long with one-letter names, so nothing restores more.
    /// restic and `snap backup` take trees 1,100 levels deep; an import must too.
    static let maxDepth = 2048
    /// A folder opened again more often than this after a seal stays in memory.
    static let maxReopenings = 2

    let root = ImportFolder()
    private(set) var groups: [LinkGroup] = []
    /// Whether folders the entries have left are sealed (tests compare with and without).
    var sealsFolders = true
    let spill = ImportSpill()
    /// The folders leading to the last entry, the root first; all open.
    private var openChain: [ImportFolder]
    /// Their names, below the root.
    private var openNames: [[UInt8]] = []
    /// Folders sealed so far (tests).
    private(set) var seals = 0

    init() { openChain = [root] }

    /// The folder at `path`, open, made (implied) where missing; a leaf in the way is
    /// replaced, as `tar` replaces a file by a folder of the same name. It becomes the
    /// current folder: those the last entry was in and this one is not are sealed.
    mutating func folder(at path: ArraySlice<[UInt8]>) throws -> ImportFolder {
        var common = 0
        while common < openNames.count, common < path.count, openNames[common] == path[path.startIndex + common] { common += 1 }
        for folder in openChain[(common + 1)...].reversed() { seal(folder) }
        openChain.removeSubrange((common + 1)...)
        openNames.removeSubrange(common...)
        var folder = openChain[common]
        for name in path.dropFirst(common) {
            folder = try child(named: name, of: folder)
            openChain.append(folder)
            openNames.append(name)
        }
        return folder
    }

    /// The subfolder `name` of the open folder `parent`, opened, made where missing.
    private mutating func child(named name: [UInt8], of parent: ImportFolder) throws -> ImportFolder {
        switch parent.children[name] {
        case .folder(let next)?:
            try open(next)
            return next
        case .leaf(_, let group)?:
            forget(group)
            fallthrough
        case nil:
            let next = ImportFolder()
            parent.children[name] = .folder(next)
            return next
        }
    }

    /// Brings a sealed folder's entries back into memory.
    func open(_ folder: ImportFolder) throws {
        guard let range = folder.spilled else { return }
        for (node, group) in try spill.read(range) { folder.children[node.name] = .leaf(node, group: group) }
        folder.spilled = nil
        folder.reopenings += 1
    }

    /// Moves an open folder's entries other than subfolders to the spill file. Sealing
    /// only saves memory: when the file cannot be written (`$TMPDIR` full), the import
    /// goes on with every folder in memory, as it would have without it.
    private mutating func seal(_ folder: ImportFolder) {
        guard sealsFolders, folder.spilled == nil, folder.reopenings <= Self.maxReopenings else { return }
        var leaves: [(node: Node, group: Int?)] = []
        var subfolders: [[UInt8]: ImportChild] = [:]
        for (name, child) in folder.children {
            switch child {
            case .folder: subfolders[name] = child
            case .leaf(let node, let group): leaves.append((node, group))
            }
        }
        guard !leaves.isEmpty else { return }
        do {
            folder.spilled = try spill.write(leaves)
        } catch {
            sealsFolders = false
            return
        }
        folder.children = subfolders
        seals += 1
    }

    /// Sets a folder's own metadata, keeping what is already below it.
    mutating func setFolder(_ path: [[UInt8]], node: Node) throws {
        if path.isEmpty { return }  // the root tree carries no metadata (FORMAT.md)
        let parent = try folder(at: path.dropLast())
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
    mutating func setLeaf(_ path: [[UInt8]], node: Node, group: Int? = nil) throws {
        let parent = try folder(at: path.dropLast())
        let name = path[path.count - 1]
        if case .leaf(_, let old)? = parent.children[name] { forget(old) }
        parent.children[name] = .leaf(node, group: group)
    }

    /// Adds `path` as a further name of the regular file at `target`, with that file's
    /// metadata and content; returns the content, or `nil` when `target` is not a regular
    /// file of this snapshot.
    mutating func link(_ path: [[UInt8]], to target: [[UInt8]]) throws -> LinkedContent? {
        guard let name = target.last else { return nil }
        // The target's folders are opened to reach it, and those sealed before sealed again.
        var parent = root
        var reopened: [ImportFolder] = []
        defer { for folder in reopened.reversed() where !openChain.contains(where: { $0 === folder }) { seal(folder) } }
        for component in target.dropLast() {
            guard case .folder(let next)? = parent.children[component] else { return nil }
            if next.spilled != nil {
                try open(next)
                reopened.append(next)
            }
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
        try setLeaf(path, node: linked, group: group)
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
