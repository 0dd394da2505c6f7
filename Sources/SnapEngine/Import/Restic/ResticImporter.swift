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
    private var known: [RawID: (blobs: [BlobID], size: UInt64)] = [:]
    /// restic tree → the snap tree it was imported as, for folders with no hard-linked
    /// file: a folder restic stored with the same tree ID is the same folder, metadata
    /// included, so it is imported as that snap tree without a walk.
    private var trees: [ResticBlobID: BlobID] = [:]
    /// restic trees that cannot be reused so (a hard-linked file, an entry left out).
    private var unmappable: Set<ResticBlobID> = []
    private var snapTrees: TreeWalker?

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
        for (number, entry) in todo.enumerated() {
            progress.start("importing restic snapshot \(entry.id.short) (\(number + 1) of \(todo.count))")
            let importer = session.snapshot()
            var links: [LinkKey: [UInt8]] = [:]
            try walk(entry.snapshot.tree, path: [], importer: importer, links: &links)
            guard let time = entry.snapshot.timestamp else {
                throw ResticError.damaged(file: "snapshots/\(entry.id.hex)", reason: "unreadable time \"\(entry.snapshot.time)\"")
            }
            let labels = ImportedSnapshot(time: Timestamp(seconds: time.seconds, nanoseconds: UInt32(time.nanoseconds)),
                                          hostname: entry.snapshot.hostname, username: entry.snapshot.username,
                                          paths: entry.snapshot.paths, tags: entry.snapshot.tags,
                                          origin: SnapshotOrigin(format: Self.format, id: entry.id.hex))
            let saved = try importer.save(labels)
            result.imported.append((entry.id, saved.id))
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

    /// A hard-linked file within one snapshot: restic's device and inode numbers.
    private struct LinkKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    /// Hands every entry below the restic tree `id` (at `path`) to `importer`.
    private func walk(_ id: ResticBlobID, path: [[UInt8]], importer: SnapshotImporter,
                      links: inout [LinkKey: [UInt8]]) throws {
        for node in try blobs.loadTree(id) {
            let entryPath = path + [node.name]
            var entry = ImportEntry(path: entryPath, node: node.snapNode, atime: node.snapAtime)
            switch node.kind {
            case .dir:
                if let subtree = node.subtree, let tree = trees[subtree], session.repository.index.contains(tree) {
                    entry.knownTree = tree
                    try importer.add(entry)
                    result.foldersKnown += 1
                    continue
                }
                try importer.add(entry)
                if let subtree = node.subtree { try walk(subtree, path: entryPath, importer: importer, links: &links) }
            case .file:
                let linkKey = node.links > 1 ? LinkKey(device: node.deviceID, inode: node.inode) : nil
                if let linkKey, let first = links[linkKey] {
                    entry.node.type = .hardlink
                    entry.node.linkTarget = first
                    try importer.add(entry)
                    progress.step()
                    continue
                }
                try importFile(node, entry: entry, importer: importer)
                if let linkKey { links[linkKey] = Array(entryPath.joined(separator: [PathBytes.slash])) }
            default:
                try importer.add(entry)
            }
        }
    }

    /// Adds one regular file: as known content when its content list was imported before,
    /// else streamed from restic's blobs.
    private func importFile(_ node: ResticNode, entry: ImportEntry, importer: SnapshotImporter) throws {
        var entry = entry
        guard !node.content.isEmpty else {
            try importer.add(entry)
            progress.step()
            return
        }
        let key = Self.contentKey(node.content)
        // Blobs from earlier in this snapshot count too: the importer knows what it stored.
        if let previous = known[key] {
            entry.content = .known(blobs: previous.blobs, size: previous.size)
            try importer.add(entry)
            result.filesKnown += 1
            progress.step()
            return
        }
        let reader = blobs.contentReader(node.content)
        let progress = self.progress
        entry.content = .stream { space in
            let n = try reader.read(into: space)
            progress.add(bytes: UInt64(n))
            return n
        }
        let blobs = try importer.add(entry)
        guard reader.bytesRead == node.size else {
            throw ResticError.damaged(file: "tree of \(PathBytes.display(Array(entry.path.joined(separator: [PathBytes.slash]))))",
                                      reason: "file size \(node.size) differs from its content's \(reader.bytesRead) bytes")
        }
        known[key] = (blobs, reader.bytesRead)
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
                      known[Self.contentKey(node.content)] == nil,
                      mine.content.allSatisfy({ session.repository.index.contains($0) }) else { continue }
                known[Self.contentKey(node.content)] = (mine.content, mine.size)
            default:
                continue
            }
        }
        if reusable { trees[restic] = snap } else { unmappable.insert(restic) }
        return reusable
    }
}
