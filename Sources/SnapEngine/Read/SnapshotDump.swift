import SnapCore
import SnapRepository

/// Why a dump cannot start.
public enum DumpError: Error, CustomStringConvertible {
    case notFound(path: String)
    case notDumpable(path: String, type: String)

    public var description: String {
        switch self {
        case let .notFound(path): return "\(path) is not in the snapshot"
        case let .notDumpable(path, type): return "\(path) is a \(type): only files and folders can be dumped"
        }
    }
}

/// Gets data out of a snapshot without restoring (`snap dump`): a file's content as it is,
/// a folder (or the whole snapshot) as a pax tar or a zip stream (`ArchiveFormat`). Memory
/// stays bounded: content is read ahead in windows of 32 MiB (`SequentialBlobs`: few,
/// large requests rather than one per blob), one shared by the small files of a batch of
/// entries taken from the walk (until their content fills it, or 4,096 entries) and one for
/// a file over 8 MiB, a zip's central directory holds a few dozen bytes an entry, and tar's
/// hard links need the names of the files with more than one link.
public struct SnapshotDump {
    private let repository: Repository
    private let walker: TreeWalker
    private let decoder: BlobDecoder?
    private let readWorkers: Int
    /// The snapshot path of the tree dumped (`SNAPSHOT:/sub` dumps `/sub`'s tree); hard
    /// links name their first names by full snapshot paths, taken relative to it.
    private let treeRoot: [UInt8]
    /// Files up to this size share a window with the files around them; a larger file reads
    /// its own windows as it is written.
    static let sharedFileLimit: UInt64 = 8 << 20
    static let windowBytes = 32 << 20
    static let batchEntries = 4096

    /// - Parameters:
    ///   - readWorkers: ranged reads at once (`--connections`).
    ///   - treeRoot: the snapshot path of the tree given to `dump` (empty: the snapshot's root).
    public init(repository: Repository, readWorkers: Int = 4, treeRoot: [UInt8] = []) {
        self.repository = repository
        self.readWorkers = readWorkers
        self.treeRoot = treeRoot.count > 1 ? treeRoot : []
        walker = TreeWalker(repository: repository)
        decoder = try? BlobDecoder(keys: repository.keys)
    }

    /// The node at `path` in the tree `root` (`/` is the root folder itself: `nil`).
    public func node(at path: [UInt8], in root: BlobID) throws -> Node? {
        let components = PathBytes.components(path)
        guard !components.isEmpty else { return nil }
        var tree = try walker.tree(root)
        for (i, name) in components.enumerated() {
            guard let node = tree.node(named: name) else { throw DumpError.notFound(path: PathBytes.display(path)) }
            if i == components.count - 1 { return node }
            guard let subtree = node.subtree else { throw DumpError.notFound(path: PathBytes.display(path)) }
            tree = try walker.tree(subtree)
        }
        return nil
    }

    /// Writes the file at `path` as it is, or the folder at `path` as an archive; returns
    /// whether it was an archive.
    ///
    /// Archive entries are named as `snap restore` lays them out under its target (snapshot
    /// paths without the leading `/`), in walk order. A hard link becomes a link to its first
    /// name in tar when the archive holds that name, and a copy of the content otherwise.
    /// In tar, a file whose content list repeats an all-zero blob is written as a GNU sparse
    /// member (`DumpContent.sparseLayout` gives the rule).
    ///
    /// - Parameters:
    ///   - format: the archive format for a folder (a file is always written as it is).
    ///   - skipped: called with the path and type of each entry the format cannot hold (tar:
    ///     sockets; zip: fifos, devices and sockets); they are left out.
    ///   - output: receives the bytes in pieces, in order.
    /// - Throws: `DumpError` when `path` is missing or neither file nor folder; repository
    ///   errors; `EngineError.treeDamaged` when a file's blobs do not add up to its size.
    @discardableResult
    public func dump(_ path: [UInt8], in root: BlobID, format: ArchiveFormat = .tar,
                     skipped: ([UInt8], NodeType) -> Void = { _, _ in },
                     output: @escaping ([UInt8]) throws -> Void) throws -> Bool {
        // `/home/ann/` names the folder `/home/ann`, as in restic's `dump latest /home/ann/`.
        var path = path
        while path.count > 1 && path.last == PathBytes.slash { path.removeLast() }
        let node = try node(at: path, in: root)
        switch node?.type {
        case .file?, .hardlink?:
            let content = node?.content ?? []
            let blobs = sequential(content)
            for id in content { try output(try blobs.load(id)) }
            return false
        case .directory?, nil:
            let archive: DumpArchive = switch format {
            case .tar: TarDumpArchive(tar: TarWriter(output: output))
            case .zip: ZipDumpArchive(zip: try ZipWriter(output: output))
            }
            var written: Set<[UInt8]> = []
            var batch: [(path: [UInt8], node: Node)] = []
            var batchBytes: UInt64 = 0
            func flush() throws {
                let shared = sequential(batch.filter { Self.sharesWindow($0.node) }.flatMap(\.node.content))
                for (entryPath, entryNode) in batch {
                    let blobs = Self.sharesWindow(entryNode) ? shared : sequential(entryNode.content)
                    try entry(entryNode, path: entryPath, archive: archive, written: &written, skipped: skipped, load: blobs.load)
                }
                batch = []
                batchBytes = 0
            }
            if let node { batch.append((path, node)) }
            try walker.walk(root, under: path.count <= 1 ? [] : path) { entryPath, entryNode in
                guard entryPath != path else { return }  // the folder itself, added above
                batch.append((entryPath, entryNode))
                if Self.sharesWindow(entryNode) { batchBytes += entryNode.size }
                if batchBytes >= UInt64(Self.windowBytes) || batch.count >= Self.batchEntries { try flush() }
            }
            try flush()
            try archive.finish()
            return true
        case let other?:
            throw DumpError.notDumpable(path: PathBytes.display(path), type: other.description)
        }
    }

    /// Whether a node's content is read in the window of the entries around it.
    private static func sharesWindow(_ node: Node) -> Bool {
        (node.type == .file || node.type == .hardlink) && node.size <= sharedFileLimit
    }

    private func sequential(_ ids: [BlobID]) -> SequentialBlobs {
        SequentialBlobs(ids, repository: repository, decoder: decoder, workers: readWorkers, windowBytes: Self.windowBytes)
    }

    /// One entry, named as `snap restore` would place it under its target (no leading `/`).
    private func entry(_ node: Node, path: [UInt8], archive: DumpArchive, written: inout Set<[UInt8]>,
                       skipped: ([UInt8], NodeType) -> Void, load: @escaping (BlobID) throws -> [UInt8]) throws {
        let name = Array(path.drop { $0 == PathBytes.slash })
        var firstName: [UInt8]?
        if node.type == .hardlink, let inTree = treeRoot.isEmpty ? node.linkTarget : PathBytes.below(treeRoot, node.linkTarget) {
            let first = Array(inTree.drop { $0 == PathBytes.slash })
            if written.contains(first) { firstName = first }
        }
        let index = repository.index
        let content = DumpContent(path: path, ids: node.content, size: node.size, load: load,
                                  length: { index.lookup($0).map { Int($0.entry.rawLength) } })
        guard try archive.add(DumpEntry(name: name, node: node, firstName: firstName, content: content)) else {
            skipped(path, node.type)
            return
        }
        // Only names a further hard link may point to are kept (more than one link, as restore's
        // `RestoredLinks` does), so that the set grows with the hard-linked files, not the tree.
        if node.links > 1 && (node.type == .file || (node.type == .hardlink && firstName == nil)) { written.insert(name) }
    }
}
