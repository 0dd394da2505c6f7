import SnapCore
import SnapRepository

/// A directory entry as the archiver's walk leaves it: settled, or still being produced
/// on another thread.
enum PendingEntry: Sendable {
    case ready(Node)
    /// A file being read.
    case file(PendingFile)
    /// A folder whose tree is still being written; `previous` is its tree in the parent
    /// snapshot, `path` where it is (for the progress listing and the folder counts; `nil`
    /// for a folder above the backed-up paths, which is in neither: restic's `dirs_new`
    /// and `-v` lines are of folders below them, docs/json.md).
    case directory(Node, tree: Pending<BlobID>, path: [UInt8]?, previous: BlobID?)
    /// A further name of a multiply-linked file whose first name is `firstPath`; `previous`
    /// is what the parent snapshot held at `path`, when that was a file.
    case link(Node, path: [UInt8], firstPath: [UInt8], first: LinkSource, previous: PreviousName?)
}

/// A file's node in the parent snapshot, as a further name of a multiply-linked file is
/// counted against it: unchanged when its metadata and content are the same.
struct PreviousName: Sendable {
    let content: [BlobID]
    /// Size, times (and inode, unless ignored) as they were.
    let sameMetadata: Bool

    func action(for content: [BlobID]) -> BackupProgress.Action {
        sameMetadata && content == self.content ? .unchanged : .modified
    }
}

/// What a further name of a multiply-linked file takes from the first.
struct LinkedContent: Sendable {
    let content: [BlobID]
    let size: UInt64
}

/// The first name's content as a further name finds it: known (the first was unchanged
/// since the parent snapshot, or has been read), still being read, or unreadable (`wait`
/// gives `nil`).
enum LinkSource: Sendable {
    case known(LinkedContent)
    case pending(Pending<LinkedContent?>)
    /// The first name was read and could not be.
    case unreadable

    func wait() throws -> LinkedContent? {
        switch self {
        case .known(let content): return content
        case .pending(let pending): return try pending.wait()
        case .unreadable: return nil
        }
    }
}

/// One file of a batch being read (`FileReader.submit`).
struct PendingFile: Sendable {
    let batch: Pending<[Node?]>
    let index: Int

    init(batch: Pending<[Node?]>, index: Int) { self.batch = batch; self.index = index }

    /// The node, or `nil` when the file could not be read (with a warning).
    func wait() throws -> Node? { try batch.wait()[index] }
}

/// Writes the archiver's folder trees on a thread of its own, once their entries are
/// settled, so that the walk never waits for a file to be read.
///
/// Folders arrive children first (the walk is depth-first), and one thread takes them in
/// that order: a folder's subfolders are always written before it is.
final class TreeSaver: Sendable {
    private let context: BackupContext
    /// Reads a further name of a hard-linked file whose first name could not be read;
    /// `nil` where there are no files to read (an import, whose links always have content).
    private let files: FileReader?
    private let pool: WorkerPool<Void>

    init(context: BackupContext, files: FileReader?) {
        self.context = context
        self.files = files
        // How many finished folders the walk may run ahead of the tree writer.
        pool = WorkerPool(threads: 1, capacity: 256, label: "snap.trees") { () }
    }

    /// Queues a folder's entries; the pending ID is its tree's, or the first error met.
    func submit(_ entries: [PendingEntry]) -> Pending<BlobID> {
        let tree = Pending<BlobID>()
        pool.submit { [self] _ in tree.fulfil(Result { try save(entries) }) }
        return tree
    }

    /// Waits for every queued folder.
    func close() { pool.close() }

    private func save(_ entries: [PendingEntry]) throws -> BlobID {
        var nodes: [Node] = []
        nodes.reserveCapacity(entries.count)
        for entry in entries {
            switch entry {
            case .ready(let node):
                nodes.append(node)
            case .file(let pending):
                if let node = try pending.wait() { nodes.append(node) }
            case .directory(var node, let tree, let path, let previous):
                let id = try tree.wait()
                node.subtree = id
                nodes.append(node)
                let action: BackupProgress.Action = previous == nil ? .new : previous == id ? .unchanged : .modified
                if let path {
                    context.record.countDirectory(action)
                    context.progress.item(path, isDirectory: true, action: action)
                }
            case .link(var node, let path, let firstPath, let first, let previous):
                if let stored = try first.wait() {
                    node.type = .hardlink
                    node.linkTarget = firstPath
                    node.content = stored.content
                    node.size = stored.size
                    // Counted as a file of its own, as restic counts every name.
                    let action = previous?.action(for: stored.content) ?? .new
                    context.record.count {
                        $0.bytesProcessed += stored.size
                        switch action {
                        case .new: $0.filesNew += 1
                        case .modified: $0.filesChanged += 1
                        case .unchanged: $0.filesUnchanged += 1
                        }
                    }
                    context.progress.fileDone(bytes: 0)
                    context.progress.item(path, action: action, size: stored.size)
                    nodes.append(node)
                } else if let files, let read = try files.read(FileReader.File(path: path, node: node, isChange: previous != nil)) {
                    // The first name could not be read: store this one in its own right.
                    nodes.append(read)
                }
            }
        }
        let bytes = Tree(nodes: nodes).encoded()
        let id = context.repository.keys.blobID(of: bytes)
        try context.store(.tree, id: id, bytes: bytes)
        return id
    }
}
