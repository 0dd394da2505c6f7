import SnapCore
import SnapCrypto
import SnapRepository
import SnapRestic

/// Imports restic snapshots into a snap repository (`snap copy --from-repo restic:…`), each
/// as one snap snapshot with the original's time, host, user, paths and tags, and an
/// `imported_from` record naming the restic snapshot.
///
/// Each restic tree is walked and handed to the shared import layer (`SnapshotImporter`)
/// entry by entry; file content is read blob by blob from restic (each blob authenticated
/// and checked against its SHA-256) and re-chunked with the snap repository's keyed
/// chunker. A file whose restic content list was imported before, in this run or (through
/// the newest imported snapshot of each host) in an earlier one, is passed as `known`
/// content and not read again, and a folder that restic stored with a tree ID imported
/// before is passed as that snap tree (`ImportEntry.knownTree`) without being walked, so
/// importing many snapshots of a slowly changing tree costs about one full read plus the
/// changed files and folders. restic snapshots already imported (their
/// ID, or the `original` of a re-tagged one, is some snap snapshot's `imported_from`) are
/// skipped, so a second run copies only what is new.
///
/// Hard links: restic stores every name of a hard-linked file as a full file with its
/// inode; the first name met in a snapshot (depth-first, in restic's tree order) is
/// imported as the file, later names with the same device and inode as hard links to it.
public final class ResticImporter {
    private let source: ResticRepository
    private let blobs: ResticBlobReader
    private let session: ImportSession
    private let progress: TaskProgress
    private var result = ResticImportResult()
    /// restic content list (its SHA-256) → the snap blobs and size it was imported as.
    private lazy var known = KnownContent { [unowned self] in result.warnings.append($0) }
    /// restic tree → the snap tree it was imported as, for folders with no hard-linked
    /// file: a folder restic stored with the same tree ID is the same folder, metadata
    /// included, so it is imported as that snap tree without a walk.
    private var trees: [ResticBlobID: BlobID] = [:]
    /// restic trees that cannot be reused so (a hard-linked file, an entry left out).
    private var unmappable: Set<ResticBlobID> = []
    private var snapTrees: TreeWalker?
    /// The restic snapshot being imported (for warnings, and for the caller's message when
    /// `run` stops on it).
    public private(set) var current: ResticSnapshotID?
    /// Told of each snapshot as soon as it is saved, so that a caller can say what was
    /// imported before an error stops the run.
    public var onImported: ((_ source: ResticSnapshotID, _ snapshot: SnapshotID) -> Void)?

    /// The format name recorded in `Snapshot.importedFrom`.
    public static let format = "restic"

    /// - Parameters:
    ///   - session: the snap repository, locked and with its index loaded.
    ///   - progress: the phase (which snapshot), files done and bytes read from restic.
    public init(source: ResticRepository, session: ImportSession, progress: TaskProgress = TaskProgress()) {
        self.source = source
        blobs = ResticBlobReader(repository: source)
        self.session = session
        self.progress = progress
    }

    /// Imports `selected` (oldest first is best: later snapshots then reuse earlier content),
    /// skipping those imported before.
    ///
    /// - Throws: `ResticError` for anything damaged or missing in the restic repository;
    ///   snap storage and repository errors. Snapshots saved before the error stay.
    public func run(_ selected: [(id: ResticSnapshotID, snapshot: ResticSnapshot)]) throws -> ResticImportResult {
        let repository = session.repository
        var imported: [String: (time: Timestamp, snapshot: Snapshot)] = [:]
        for record in try SnapshotStore.all(in: repository) {
            guard let origin = record.snapshot.importedFrom, origin.format == Self.format else { continue }
            imported[origin.id] = (record.snapshot.timestamp, record.snapshot)
        }
        let todo = selected.filter { entry in
            let done = imported[entry.id.hex] != nil || entry.snapshot.original.map { imported[$0.hex] != nil } == true
            if done { result.alreadyImported.append(entry.id) }
            return !done
        }
        if !todo.isEmpty { try seedKnownContent(from: imported) }
        let ahead = ResticReadAhead(reader: blobs, limits: ResticReadAhead.Limits(threads: session.options.workers))
        defer { ahead.close() }
        for (number, entry) in todo.enumerated() {
            progress.start("importing restic snapshot \(entry.id.short) (\(number + 1) of \(todo.count))")
            let importer = session.snapshot()
            defer { importer.close() }
            current = entry.id
            try importTree(entry.snapshot.tree, into: importer, ahead: ahead)
            guard let time = entry.snapshot.timestamp else {
                throw ResticError.damaged(file: "snapshots/\(entry.id.hex)", reason: "unreadable time \"\(entry.snapshot.time)\"")
            }
            let labels = ImportedSnapshot(time: Timestamp(seconds: time.seconds, nanoseconds: UInt32(time.nanoseconds)),
                                          hostname: entry.snapshot.hostname, username: entry.snapshot.username,
                                          paths: entry.snapshot.paths, tags: entry.snapshot.tags,
                                          origin: SnapshotOrigin(format: Self.format, id: entry.id.hex))
            let saved = try importer.save(labels)
            result.imported.append((entry.id, saved.id))
            onImported?(entry.id, saved.id)
            // The folders just stored can stand for the same restic folders from now on.
            try mapTrees(restic: entry.snapshot.tree, snap: saved.snapshot.tree)
            if let summary = saved.snapshot.summary {
                result.bytesAdded += summary.bytesAdded
                result.bytesStored += summary.bytesStored
            }
            result.warnings += saved.warnings
        }
        return result
    }

    /// How far the walk runs ahead of the entries being imported: entries queued at most,
    /// and planned blobs beyond which no more files are looked for.
    private static let maxStepsAhead = 1024
    private static func enoughBlobsAhead(_ ahead: ResticReadAhead) -> Bool { ahead.pending >= 2 * ahead.limits.maxBlobs }

    /// Hands every entry below the restic tree `root` to `importer`, in restic's tree order.
    /// The walk runs a little ahead of the importing (`Step`s queued, at most
    /// `maxStepsAhead`), so that the content of the next files to read is already being
    /// decoded by `ahead` while this thread chunks the current one.
    private func importTree(_ root: ResticBlobID, into importer: SnapshotImporter, ahead: ResticReadAhead) throws {
        var walk = TreeWalk(root: try blobs.loadTree(root))
        var steps: [Step] = []
        var head = 0
        while true {
            while steps.count - head < Self.maxStepsAhead, !Self.enoughBlobsAhead(ahead), let step = try nextStep(&walk) {
                if case .stream(_, let node, _) = step { ahead.plan(node.content) }
                steps.append(step)
            }
            ahead.fill()
            guard head < steps.count else { return }
            let step = steps[head]
            head += 1
            if head >= Self.maxStepsAhead {
                steps.removeFirst(head)
                head = 0
            }
            try perform(step, importer: importer, ahead: ahead)
            if case .stream(_, _, let key) = step { walk.streamed.remove(key) }
        }
    }

    /// What to do with one entry of a restic tree, decided in walk order.
    private enum Step {
        /// Added as it is; `file` counts it as a file done, `knownFolder` as a folder taken whole.
        case add(ImportEntry, file: Bool, knownFolder: Bool)
        /// A regular file whose content list was imported before (`known[key]`), or is
        /// streamed by an earlier step of this walk.
        case known(ImportEntry, ResticNode, key: RawID)
        /// A regular file read from restic; its blobs are planned in `ahead`.
        case stream(ImportEntry, ResticNode, key: RawID)
    }

    /// The folders being walked, depth-first, and what the walk has decided so far.
    private struct TreeWalk {
        struct Folder {
            let nodes: [ResticNode]
            var next = 0
            let path: [[UInt8]]
        }
        var stack: [Folder]
        /// The first name of each hard-linked file met so far.
        var links: [LinkKey: [UInt8]] = [:]
        /// Content lists planned to be streamed by a step not yet performed (then they are in `known`).
        var streamed: Set<RawID> = []

        init(root: [ResticNode]) { stack = [Folder(nodes: root, path: [])] }
    }

    /// The next entry of the walk, with what to do with it; `nil` at the end.
    private func nextStep(_ walk: inout TreeWalk) throws -> Step? {
        while var folder = walk.stack.popLast() {
            guard folder.next < folder.nodes.count else { continue }
            let node = folder.nodes[folder.next]
            folder.next += 1
            walk.stack.append(folder)
            let entryPath = folder.path + [node.name]
            var entry = ImportEntry(path: entryPath, node: node.snapNode, atime: node.snapAtime)
            switch node.kind {
            case .dir:
                if let subtree = node.subtree, let tree = trees[subtree], session.repository.index.contains(tree) {
                    entry.knownTree = tree
                    return .add(entry, file: false, knownFolder: true)
                }
                if let subtree = node.subtree {
                    walk.stack.append(TreeWalk.Folder(nodes: try blobs.loadTree(subtree), path: entryPath))
                }
                return .add(entry, file: false, knownFolder: false)
            case .file:
                let linkKey = node.links > 1 ? LinkKey(device: node.deviceID, inode: node.inode) : nil
                if let linkKey, let first = walk.links[linkKey] {
                    entry.node.type = .hardlink
                    entry.node.linkTarget = first
                    return .add(entry, file: true, knownFolder: false)
                }
                if let linkKey { walk.links[linkKey] = Array(entryPath.joined(separator: [PathBytes.slash])) }
                guard !node.content.isEmpty else { return .add(entry, file: true, knownFolder: false) }
                let key = Self.contentKey(node.content)
                // Blobs from earlier in this snapshot count too: the importer knows what it stored.
                if known.mayContain(key) || walk.streamed.contains(key) { return .known(entry, node, key: key) }
                walk.streamed.insert(key)
                return .stream(entry, node, key: key)
            default:
                return .add(entry, file: false, knownFolder: false)
            }
        }
        return nil
    }

    /// A hard-linked file within one snapshot: restic's device and inode numbers.
    private struct LinkKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    /// Imports one entry as its step says.
    private func perform(_ step: Step, importer: SnapshotImporter, ahead: ResticReadAhead) throws {
        switch step {
        case .add(let entry, let file, let knownFolder):
            try importer.add(entry)
            if knownFolder { result.foldersKnown += 1 }
            if file { progress.step() }
        case .known(var entry, let node, let key):
            guard let previous = known.content(for: key) else {
                // Not stored after all (another list shares the first bytes of its key, or
                // its record cannot be read back): read it again.
                try importFile(node, entry: entry, key: key, reader: blobs.contentReader(node.content), importer: importer)
                return
            }
            entry.content = .known(blobs: previous.content, size: previous.size)
            try importer.add(entry)
            result.filesKnown += 1
            progress.step()
        case .stream(let entry, let node, let key):
            try importFile(node, entry: entry, key: key, reader: ahead.contentReader(node.content), importer: importer)
        }
    }

    /// Adds one regular file, its content streamed from restic's blobs through `reader`.
    private func importFile(_ node: ResticNode, entry: ImportEntry, key: RawID, reader: ResticContentReader,
                            importer: SnapshotImporter) throws {
        var entry = entry
        let progress = self.progress
        entry.content = .stream { space in
            let n = try reader.read(into: space)
            progress.add(bytes: UInt64(n))
            return n
        }
        let blobs = try importer.add(entry)
        if reader.bytesRead != node.size {
            // restic 0.8 and older recorded the size a file had when its backup started, so a
            // file that grew meanwhile has more content than size; restic's check accepts it
            // and its restore writes the content. The content, read and verified, is the file.
            let path = PathBytes.display([PathBytes.slash] + Array(entry.path.joined(separator: [PathBytes.slash])))
            result.warnings.append("restic snapshot \(current?.short ?? "?"): \(path): restic recorded \(node.size) bytes but its "
                                   + "content holds \(reader.bytesRead); imported with the content's \(reader.bytesRead) bytes")
        }
        known.insert(key, LinkedContent(content: blobs, size: reader.bytesRead))
        result.filesRead += 1
        result.bytesRead += reader.bytesRead
        progress.step()
    }

    /// One ID for a whole content list: the SHA-256 of its blob IDs in order.
    private static func contentKey(_ content: [ResticBlobID]) -> RawID {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(content.count * RawID.byteCount)
        for id in content { bytes += id.raw.bytes }
        return SHA256.hash(bytes).withUnsafeBytes { RawID(digest: $0) }
    }

    /// Fills `known` and `trees` from earlier runs: for the newest imported snapshot of each
    /// host whose restic original is still there, maps the restic trees onto the snap trees.
    private func seedKnownContent(from imported: [String: (time: Timestamp, snapshot: Snapshot)]) throws {
        var newest: [String: (time: Timestamp, snapshot: Snapshot, restic: ResticBlobID)] = [:]
        let resticTrees = Dictionary(source.snapshots.map { ($0.id.hex, $0.snapshot.tree) }, uniquingKeysWith: { a, _ in a })
        for (origin, entry) in imported {
            guard let tree = resticTrees[origin] else { continue }
            let host = entry.snapshot.hostname
            if let current = newest[host], current.time >= entry.time { continue }
            newest[host] = (entry.time, entry.snapshot, tree)
        }
        guard !newest.isEmpty else { return }
        progress.start("reading the trees of \(newest.count) snapshots imported before")
        for (_, entry) in newest { try mapTrees(restic: entry.restic, snap: entry.snapshot.tree) }
    }

    /// Walks the restic tree `restic` and the snap tree `snap` it was imported as side by
    /// side: records each file's restic content list with the snap blobs it became, and
    /// each folder's restic tree with its snap tree. Only trees are read, and each pair of
    /// trees once.
    ///
    /// - Returns: whether `restic` can stand for `snap` (no hard-linked file in it, every
    ///   entry where it should be).
    @discardableResult
    private func mapTrees(restic: ResticBlobID, snap: BlobID) throws -> Bool {
        if trees[restic] != nil { return true }
        if unmappable.contains(restic) { return false }
        let walker = snapTrees ?? TreeWalker(repository: session.repository)
        snapTrees = walker
        let tree = try walker.tree(snap)
        var reusable = true
        for node in try blobs.loadTree(restic) {
            guard let mine = tree.node(named: node.name) else {
                reusable = false
                continue
            }
            switch node.kind {
            case .dir:
                if mine.type == .directory, let subtree = node.subtree, let snapSubtree = mine.subtree {
                    if try !mapTrees(restic: subtree, snap: snapSubtree) { reusable = false }
                } else {
                    reusable = false
                }
            case .file:
                if node.links > 1 { reusable = false }
                guard mine.type == .file || mine.type == .hardlink, mine.size == node.size, !node.content.isEmpty,
                      case let key = Self.contentKey(node.content), !known.mayContain(key),
                      mine.content.allSatisfy({ session.repository.index.contains($0) }) else { continue }
                known.insert(key, LinkedContent(content: mine.content, size: mine.size))
            default:
                continue
            }
        }
        if reusable { trees[restic] = snap } else { unmappable.insert(restic) }
        return reusable
    }
}
