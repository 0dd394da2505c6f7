#if canImport(Glibc)
import Glibc
#endif
import SnapCore
import SnapRepository

/// Builds one snapshot from entries handed to it one at a time (`add`), then saves it
/// (`save`) with the original's labels. Made by `ImportSession.snapshot`.
///
/// Content goes through the same path as a backup's: the repository's keyed chunker
/// (`ChunkReader`), blob IDs (`BlobIDHasher`), and the upload queue's threads that
/// compress, encrypt and pack. Chunking and hashing run on the caller's thread, one
/// buffer at a time. Only metadata and content IDs are kept until `save`, those of folders
/// the entries have left in a temporary file (`ImportTree`), and `save` writes the trees
/// bottom-up (`TreeSaver`), the packs and index, then the snapshot, in the write order of
/// FORMAT.md. An importer that is dropped without `save` leaves
/// packs that the next backup or import indexes and reuses, and no snapshot.
public final class SnapshotImporter {
    private let session: ImportSession
    private let context: BackupContext
    private let saver: BlobSaver
    private let uploads: BlobUploadQueue
    private let trees: TreeSaver
    private let reader: ChunkReader
    private let ids: BlobIDHasher
    private var tree = ImportTree()
    private let start = Clock.now()
    private var saved = false

    init(session: ImportSession, progress: BackupProgress, warnItem: (@Sendable (BackupWarning) -> Void)?) {
        self.session = session
        let repository = session.repository
        saver = BlobSaver(repository: repository, compressionLevel: session.options.compressionLevel)
        uploads = BlobUploadQueue(saver: saver, threads: session.options.workers, capacity: session.options.workers)
        let record = BackupRecord(report: session.warn, reportItem: warnItem, progress: progress)
        context = BackupContext(repository: repository, saver: saver, uploads: uploads, progress: progress, record: record)
        trees = TreeSaver(context: context, files: nil)
        reader = ChunkReader(chunker: repository.chunker)
        ids = BlobIDHasher(keys: repository.keys)
        ActiveSavers.add(saver)
    }

    /// Whether folders the entries have left are sealed into the spill file (tests compare).
    var sealsFolders: Bool {
        get { tree.sealsFolders }
        set { tree.sealsFolders = newValue }
    }

    /// Folders sealed so far, and bytes written to the spill file (tests).
    var spillStatistics: (seals: Int, bytes: Int) { (tree.seals, tree.spill.bytesWritten) }

    deinit {
        ActiveSavers.remove(saver)
        trees.close()
    }

    /// Waits for the blobs still being compressed and encrypted. Call it when the import
    /// ends, saved or abandoned, before the process may exit (`BlobUploadQueue.stop`).
    public func close() { uploads.stop() }

    /// Adds one entry; a later entry with the same path replaces an earlier one.
    ///
    /// - Returns: the content blob IDs of a regular file or hard link (empty otherwise),
    ///   which a later import may pass back as `.known` content.
    /// - Throws: `ImportError` for a path that cannot be stored or unknown `.known` blobs;
    ///   whatever a content stream throws; storage errors. The import is then abandoned.
    @discardableResult
    public func add(_ entry: ImportEntry) throws -> [BlobID] {
        let path = try Self.checked(entry.path)
        let display = PathBytes.display(Self.snapshotPath(path))
        var node = entry.node
        node.name = path[path.count - 1]
        node.subtree = nil
        node.content = []
        // What the type does not use is cleared, so equal entries encode to equal trees.
        if node.type != .characterDevice && node.type != .blockDevice { node.rdev = 0 }
        if node.type != .symlink && node.type != .hardlink { node.linkTarget = [] }
        let record = context.record
        switch node.type {
        case .directory:
            node.size = 0
            if let known = entry.knownTree {
                // A whole stored tree: kept as one finished entry, nothing below it is visited.
                guard context.repository.index.contains(known) else {
                    throw ImportError.unknownContent(path: display, blob: known.short)
                }
                node.subtree = known
                try tree.setLeaf(path, node: node)
                return []
            }
            try tree.setFolder(path, node: node)
            return []
        case .hardlink:
            let target = PathBytes.components(node.linkTarget).filter { $0 != [46] }
            guard (try? Self.checked(target)) != nil, let linked = try tree.link(path, to: target) else {
                record.warn(Self.snapshotPath(path), "hard link to \(PathBytes.display(entry.node.linkTarget)), which is not a regular file met earlier: left out")
                return []
            }
            context.progress.fileDone(bytes: 0)
            context.progress.item(Self.snapshotPath(path), action: .new, size: linked.size)
            return linked.content
        case .file:
            switch entry.content {
            case nil:
                node.size = 0
            case .known(let blobs, let size)?:
                if let missing = blobs.first(where: { !saver.isStoredOrReserved($0) }) {
                    throw ImportError.unknownContent(path: display, blob: missing.short)
                }
                node.content = blobs
                node.size = size
                record.count { $0.filesUnchanged += 1; $0.bytesProcessed += size }
                context.progress.fileDone(bytes: size)
            case .stream(let fill)?:
                context.progress.setCurrent(Self.snapshotPath(path))
                var content: [BlobID] = []
                node.size = try reader.read(from: { space in
                    let n = try fill(space)
                    guard n >= 0, n <= space.count else { throw ImportError.streamOverrun(path: display) }
                    return n
                }) { chunk in
                    let id = ids.id(of: chunk)
                    content.append(id)
                    try context.store(.data, id: id, plaintext: chunk, inline: false)
                    context.progress.bytesRead(UInt64(chunk.count))
                }
                node.content = content
                record.count { $0.filesNew += 1; $0.bytesRead += node.size; $0.bytesProcessed += node.size }
                context.progress.fileDone(bytes: 0)
            }
            context.progress.item(Self.snapshotPath(path), action: .new, size: node.size)
            try tree.setLeaf(path, node: node)
            return node.content
        default:
            node.size = 0
            try tree.setLeaf(path, node: node)
            return []
        }
    }

    /// Records that the entry at `path` (a snapshot path, `/a/b`) was left out, and why:
    /// a warning in the result and the snapshot's summary, passed on to the user.
    public func warn(path: [UInt8], _ message: String) {
        context.record.warn(path, message)
    }

    /// Writes the trees, the packs and their index, then the snapshot; once only.
    ///
    /// - Throws: storage and repository errors, after which no snapshot is saved.
    public func save(_ labels: ImportedSnapshot) throws -> BackupResult {
        precondition(!saved, "SnapshotImporter.save called twice")
        saved = true
        let root: BlobID
        do {
            defer { trees.close() }
            root = try build(tree.root, path: [], time: labels.time).wait()
        }
        try uploads.drain()
        let stored = try saver.finish()
        let record = context.record
        let summary = record.finalSummary(stored: stored, since: start)
        let time = labels.time
        var snapshot = Snapshot(time: RFC3339.format(time, utcOffset: RFC3339.localOffset(at: time.seconds)),
                                hostname: labels.hostname, username: labels.username, uid: getuid(), gid: getgid(),
                                paths: Set(labels.paths).sorted(), tags: labels.tags, excludes: [], parent: nil, tree: root,
                                summary: summary, programVersion: snapVersion)
        snapshot.importedFrom = labels.origin
        let repository = session.repository
        try SnapshotDependencies.verify(root, in: repository, lock: session.lock, timing: session.options.lockTiming)
        guard !session.options.stopRequested() else { throw EngineError.stopped }
        let id = try SnapshotStore.save(snapshot, in: repository)
        var result = BackupResult(state: .saved, id: id, snapshot: snapshot, warnings: record.warnings)
        result.directories = record.directories
        return result
    }

    /// Queues the trees of `folder` and everything below it, children first, and frees
    /// the folder's entries as it goes. Names are visited in snapshot order, which decides
    /// the first name of each hard-linked file.
    private func build(_ folder: ImportFolder, path: [UInt8], time: Timestamp) throws -> Pending<BlobID> {
        try tree.open(folder)
        let children = folder.children.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        folder.children = [:]
        var entries: [PendingEntry] = []
        entries.reserveCapacity(children.count)
        for (name, child) in children {
            let childPath = path + [PathBytes.slash] + name
            switch child {
            case .folder(let sub):
                let subtree = try build(sub, path: childPath, time: time)
                var node = sub.node ?? implied(name, time: time)
                node.name = name
                entries.append(.directory(node, tree: subtree, path: childPath, previous: nil))
            case .leaf(var node, let group):
                if let group { tree.settle(&node, group: group, path: childPath) }
                entries.append(.ready(node))
            }
        }
        context.record.count { $0.directories += 1 }
        return trees.submit(entries)
    }

    /// The metadata of a folder named only by its children's paths: owned by the importing
    /// user, mode 0755, timed as the snapshot (as `tar` would create it, at that time).
    private func implied(_ name: [UInt8], time: Timestamp) -> Node {
        Node(name: name, type: .directory, mode: 0o755, uid: getuid(), gid: getgid(), mtime: time, ctime: time)
    }

    private static func snapshotPath(_ path: [[UInt8]]) -> [UInt8] {
        path.reduce(into: []) { $0 += [PathBytes.slash] + $1 }
    }

    /// `path` if every component can be a name in a tree (FORMAT.md, "Canonical form").
    private static func checked(_ path: [[UInt8]]) throws -> [[UInt8]] {
        let display = { PathBytes.display(snapshotPath(path)) }
        guard !path.isEmpty else { throw ImportError.unusablePath(path: "/", reason: "an entry needs a name below the root") }
        guard path.count <= ImportTree.maxDepth else {
            throw ImportError.unusablePath(path: String(display().prefix(200)) + "…", reason: "more than \(ImportTree.maxDepth) levels deep")
        }
        for name in path {
            if name.isEmpty || name == [46] || name == [46, 46] || name.contains(0) || name.contains(PathBytes.slash) {
                throw ImportError.unusablePath(path: display(), reason: "a name is empty, '.', '..', or holds '/' or NUL")
            }
        }
        return path
    }
}
