#if canImport(Glibc)
import Glibc
#endif
import SnapCore
import SnapRepository
import SnapStorage

/// Backs up paths into a repository and writes a snapshot.
///
/// One thread walks the tree in name order, stats every entry and settles unchanged
/// files from the parent snapshot; files whose content must be read go to `FileReader`'s
/// threads, and their chunks to `BlobUploadQueue`'s. A folder's tree is written once all
/// its entries are settled, so memory is bounded by the queues and the depth of the walk,
/// not by the size of the tree.
///
/// Write order (FORMAT.md, "Write order"): packs, then the index files naming them,
/// then the snapshot. Killed at any point, the repository keeps only complete files;
/// packs without an index are picked up by the next backup.
public final class Archiver {
    /// Files queued on the walking thread for one reader, sent off when full, and always
    /// before the walk descends into a folder or hands a folder's tree over: a tree never
    /// waits for a file that has not been sent to a reader.
    private struct Batch {
        var files: [FileReader.File] = []
        var bytes: UInt64 = 0
        var nodes = Pending<[Node?]>()
    }

    /// Files and bytes per batch: enough to make the hand-over cheap, few enough to keep
    /// every reader busy.
    private static let batchFiles = 16
    private static let batchBytes: UInt64 = 1 << 20

    private let repository: Repository
    private let options: BackupOptions
    private let saved: @Sendable (SnapshotID) -> Void
    private let progress: BackupProgress
    private let record: BackupRecord
    private let saver: BlobSaver
    private let uploads: BlobUploadQueue
    /// Set up by `run`, which may throw for a bad pattern.
    private var check: ExclusionCheck?
    private let owners = UserDatabase()
    /// Decodes the parent snapshot's trees on the walking thread (one decompression context, not one per folder).
    private lazy var parentTrees = TreeLoader(repository: repository)
    /// First snapshot path and content of each multiply-linked file, by (device, inode),
    /// until its last name is met.
    private var hardLinks: HardLinkTable
    private var batch = Batch()
    /// Backed-up paths the walk took in (not excluded, readable): none, and no snapshot is saved.
    private var targetsTaken = 0
    /// Every path given to the backup, normalised, nested ones too (`SourceTrie` keeps only
    /// the outermost): with `--one-file-system`, a given path on another file system below
    /// another given path is backed up, not kept as an empty mount point.
    private var givenPaths: Set<[UInt8]> = []
    /// The seconds during which the parent snapshot read its files, widened by a file
    /// system's coarsest timestamp (`racyMargin`): `racy(_:)`.
    private var parentReadWindow: ClosedRange<Int64>?
    /// The coarsest timestamp step: FAT's 2 seconds.
    static let racyMargin: Int64 = 2

    /// - Parameters:
    ///   - warn: messages for the user (entries that could not be read among them, unless `warnItem` takes those).
    ///   - warnItem: each entry that could not be read, with its path.
    ///   - saved: called as soon as the snapshot is written, before the lock is removed (an
    ///     interruption while that waits on the storage must not say nothing was saved).
    public init(repository: Repository, options: BackupOptions, progress: BackupProgress = BackupProgress(),
                warn: @escaping @Sendable (String) -> Void = { _ in }, warnItem: (@Sendable (BackupWarning) -> Void)? = nil,
                saved: @escaping @Sendable (SnapshotID) -> Void = { _ in }) {
        self.repository = repository
        self.options = options
        self.saved = saved
        self.progress = progress
        record = BackupRecord(report: warn, reportItem: warnItem, progress: progress)
        hardLinks = HardLinkTable(warn: warn)
        saver = BlobSaver(repository: repository, compressionLevel: options.compressionLevel, dryRun: options.dryRun)
        uploads = BlobUploadQueue(saver: saver, threads: options.workers, capacity: options.workers)
    }

    /// Checks the sources, backs them up and saves the snapshot.
    ///
    /// - Throws: `EngineError.sourceUnavailable` before writing anything when a path does
    ///   not exist; repository and storage errors, after which no snapshot is written.
    /// - Throws: `FilterPatternError` before anything is written when a pattern cannot be used.
    public func run() throws -> BackupResult {
        let start = Clock.now()
        let record = self.record
        check = try ExclusionCheck(options.exclusions) { record.report($0) }
        // A stream's snapshot path is its components' (`/db//x.sql/` → `/db/x.sql`), as its tree holds it.
        var sources: [[UInt8]] = options.stream.map { [SourceTrie.normalise([PathBytes.slash] + $0.path)] } ?? options.paths.map(SourceTrie.normalise)
        if options.stream != nil, let path = sources.first, check?.excludedByName(path) == true {
            // As restic: the excludes apply to the stream's name too, and leave nothing to save.
            throw EngineError.sourceUnavailable(path: PathBytes.display(path), reason: "is left out by the exclude patterns, so no snapshot was saved")
        }
        let named = sources  // the snapshot's paths: the ones given, readable or not
        if options.stream == nil {
            // A path that does not exist is a mistake in the command: nothing is saved. One
            // that exists but cannot be looked at (a folder above it closed to this user) is
            // an unreadable entry like any other, as in restic: a warning, the other paths
            // saved, exit 3; it stays among the snapshot's paths, so the next backup finds
            // its parent (restic keeps it too).
            var usable: [[UInt8]] = []
            var unreadable: [(given: [UInt8], reason: String)] = []
            for (given, path) in zip(options.paths, sources) {
                do {
                    _ = try FileSystem.lstat(path)
                    usable.append(path)
                } catch {
                    if error.code == ENOENT { throw EngineError.sourceUnavailable(path: PathBytes.display(given), reason: "does not exist") }
                    unreadable.append((given, error.description))
                }
            }
            if usable.isEmpty, let first = unreadable.first {
                throw EngineError.sourceUnavailable(path: PathBytes.display(first.given), reason: first.reason)
            }
            for (given, reason) in unreadable { record.warn(given, reason) }
            sources = usable
        }
        let trie = SourceTrie()
        for path in sources { trie.insert(path) }
        givenPaths = Set(sources)
        let paths = Set(named.map { String(decoding: $0, as: UTF8.self) }).sorted()

        // The lock comes before the index is read: a prune that condemns packs after this
        // moment waits for this backup before deleting them. A dry run writes nothing, not even a lock.
        // `snapshots/` and `index/` are listed with `locks/` (one request on S3). Listed
        // together, a snapshot written meanwhile may show without its index files: its blobs
        // then look new, and are read and stored again, which costs time but loses nothing.
        let locked = options.dryRun ? nil : try RepositoryLock.withListing(kind: .backup, repository: repository,
                                                                            hostname: options.hostname, timing: options.lockTiming,
                                                                            listing: [.snapshots, .index])
        let lock = locked?.lock
        defer { lock?.release() }
        // Condemned packs stay readable for restores, but new snapshots must not depend on them.
        // A file in locks/ that cannot be read may be a mark: stop before uploading anything.
        let scan = try locked?.scan ?? Coordination.scan(repository, times: true)
        let condemned = try scan.condemnedPacks(action: "backup not started")
        try repository.loadIndex(listed: locked?.listing.files[.index].map(IndexID.all)) { id, error in
            self.record.report("index \(id.short) skipped: \(error)")
        }
        repository.index.exclude(condemned: condemned)
        if let lock {
            if scan.hasDeadWriter(timing: options.lockTiming, now: lock.storageNow, measured: lock.clockOffset != nil,
                                  localHost: options.hostname) {
                try repository.indexUnindexedPacks(excluding: condemned)
            }
            ActiveSavers.add(saver)
        }
        defer {
            // A backup that stops with an error names the packs it uploaded in an index file
            // while it still holds its lock, as an interrupted one does (after `finish`, a no-op).
            if lock != nil { try? saver.indexUploadedPacks() }
            ActiveSavers.remove(saver)
        }
        // Runs first: blobs still being compressed and encrypted finish before the packs are
        // indexed, the lock goes, and the process may exit.
        defer { uploads.stop() }
        let parent = try findParent(paths: paths, listed: locked?.listing.files[.snapshots])
        let parentRoot = options.force ? nil : parent.flatMap { loadTree($0.snapshot.tree) }
        parentReadWindow = parent.map { Self.readWindow(of: $0.snapshot) }

        let context = BackupContext(repository: repository, saver: saver, uploads: uploads, progress: progress, record: record)
        let files = FileReader(context: context, threads: min(options.readers, BackupOptions.maximumReaders), segmentation: options.segmentation,
                               prefetch: options.prefetch)
        let trees = TreeSaver(context: context, files: files)
        let stats = EntryStats(threads: options.statThreads)
        let scanner = FolderScanner(threads: options.scanThreads, stats: stats)
        let root: BlobID
        do {
            defer { scanner.close(); trees.close(); files.close(); stats.close() }
            let walk = Walk(files: files, trees: trees, stats: stats, scanner: scanner)
            if let stream = options.stream {
                root = try StreamArchiver(context: context, trees: trees, owners: owners).archive(stream)
            } else if trie.isTarget {
                let device = options.exclusions.oneFileSystem ? try? FileSystem.lstat([PathBytes.slash]).st_dev : nil
                root = try archiveDirectory([PathBytes.slash], listed: nil, parent: parentRoot, walk: walk, device: device.map(UInt64.init)).wait()
            } else {
                root = try archiveIntermediate(trie, path: [], parent: parentRoot, walk: walk).wait()
                // As restic: a snapshot of nothing would become the group's latest and push a
                // real one out of `forget --keep-last`. (What was uploaded is indexed; prune drops it.)
                guard targetsTaken > 0 else { throw EngineError.nothingToBackUp }
            }
        }
        try uploads.drain()
        let stored = try saver.finish()

        let summary = record.finalSummary(stored: stored, since: start)
        let time = options.time ?? WallClock.now
        let snapshot = Snapshot(time: RFC3339.format(time, utcOffset: RFC3339.localOffset(at: time.seconds)),
                                hostname: options.hostname, username: options.username,
                                uid: getuid(), gid: getgid(), paths: paths, tags: options.tags,
                                excludes: (options.exclusions.patterns.patterns + options.exclusions.patterns.insensitivePatterns).map(\.description),
                                parent: parent?.id, tree: root,
                                summary: summary, programVersion: snapVersion)
        if options.dryRun {
            return result(.dryRun, id: SnapshotID(raw: RawID(w0: 0, w1: 0, w2: 0, w3: 0)), snapshot: snapshot)
        }
        if options.skipIfUnchanged, let parent, parent.snapshot.tree == root {
            return result(.unchanged, id: parent.id, snapshot: snapshot)
        }
        if let lock { try SnapshotDependencies.verify(root, in: repository, lock: lock, timing: options.lockTiming) }
        guard !options.stopRequested() else { throw EngineError.stopped }
        let id = try SnapshotStore.save(snapshot, in: repository)
        saved(id)
        return result(.saved, id: id, snapshot: snapshot)
    }

    private func result(_ state: BackupResult.State, id: SnapshotID, snapshot: Snapshot) -> BackupResult {
        var result = BackupResult(state: state, id: id, snapshot: snapshot, warnings: record.warnings)
        result.directories = record.directories
        result.unmatchedPatterns = check?.patterns.unmatched ?? []
        return result
    }

    /// - Parameter listed: `snapshots/` as listed with the lock; listed here when `nil`.
    private func findParent(paths: [String], listed: [FileInfo]?) throws -> SnapshotRecord? {
        if let explicit = options.parent {
            return SnapshotRecord(id: explicit, snapshot: try SnapshotStore.load(explicit, from: repository))
        }
        let grouping = options.groupBy
        return try SnapshotStore.all(in: repository, listed: listed).last {
            (!grouping.byHost || $0.snapshot.hostname == options.hostname)
                && (!grouping.byPaths || Set($0.snapshot.paths) == Set(paths))
                && (!grouping.byTags || Set($0.snapshot.tags) == Set(options.tags))
        }
    }

    /// A tree of the parent snapshot, read by whole packs with the packs of its subtrees
    /// read ahead (`TreeLoader`); `nil` when it cannot be read.
    private func loadTree(_ id: BlobID?) -> Tree? {
        guard let id, let tree = try? parentTrees.tree(id) else { return nil }
        parentTrees.prefetch(tree.nodes.lazy.compactMap(\.subtree))
        return tree
    }

    /// A folder on the way to a backed-up path: its own metadata, and only the children
    /// that lead to targets.
    private func archiveIntermediate(_ trie: SourceTrie, path: [UInt8], parent: Tree?, walk: Walk) throws -> Pending<BlobID> {
        var entries: [PendingEntry] = []
        for (name, child) in trie.children.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let childPath = PathBytes.join(path.isEmpty ? [PathBytes.slash] : path, name)
            let parentNode = parent?.node(named: name)
            if child.isTarget {
                // A backed-up path is subject to the excludes too, as in restic.
                if check?.excludedByName(childPath) == true { continue }
                if let rules = check?.tagRules(in: path.isEmpty ? [PathBytes.slash] : path),
                   ExclusionCheck.excluded(name, taggedBy: rules) { continue }
                let st = Result { () throws(FileSystem.Failure) in try FileSystem.lstat(childPath) }
                let device = options.exclusions.oneFileSystem ? (try? st.get()).map { UInt64($0.st_dev) } : nil
                if let entry = try archiveEntry(childPath, name: name, examined: EntryStats.Examined(lstat: st, xattrs: nil),
                                                parent: parentNode, walk: walk, device: device) {
                    entries.append(entry)
                    targetsTaken += 1
                }
                continue
            }
            var st: stat
            do {
                st = try FileSystem.lstat(childPath)
                // A folder above a backed-up path, reached through a symbolic link: stored as
                // the folder it leads to (its mode, owner, times), not with the link's 0777.
                if st.st_mode & S_IFMT == S_IFLNK { st = try FileSystem.statFollowingLinks(childPath) }
            } catch {
                throw EngineError.sourceUnavailable(path: PathBytes.display(childPath), reason: error.description)
            }
            let node = Node(name: name, type: .directory, stat: st, owners: owners)
            sendBatch(walk)
            let tree = try archiveIntermediate(child, path: childPath,
                                               parent: parentNode?.type == .directory ? loadTree(parentNode?.subtree) : nil,
                                               walk: walk)
            // A folder above the backed-up paths: in the snapshot, not in the counts or the
            // `-v` listing, which are of folders below them (restic's `dirs_new`, docs/json.md).
            entries.append(.directory(node, tree: tree, path: nil, previous: parentNode?.subtree))
        }
        sendBatch(walk)
        return walk.trees.submit(entries)
    }

    /// - Parameters:
    ///   - device: with `--one-file-system`, the device of the backed-up path this folder lies
    ///     below: entries on another one are left out (folders kept empty).
    ///   - scanned: the folder as handed to `FolderScanner` ahead of the walk; listed here
    ///     when `nil` or when the scanner left it to the walk.
    /// - Parameter listed: the folder as its parent's listing saw it; `nil` for `/`.
    private func archiveDirectory(_ path: [UInt8], listed: ListedEntry?, parent: Tree?, walk: Walk, device: UInt64?,
                                  scanned: FolderScanSlot? = nil) throws -> Pending<BlobID> {
        var children: [(name: [UInt8], path: [UInt8], examined: EntryStats.Examined)] = []
        do {
            // Decided by name before any entry is examined: an excluded folder is never opened.
            let tagged = check?.tagRules(in: path) ?? []
            if let slot = scanned, let scan = try walk.scanner.take(slot) {
                for (name, examined) in zip(scan.names, scan.entries) {
                    if let childPath = keptPath(name, in: path, taggedBy: tagged) { children.append((name, childPath, examined)) }
                }
            } else {
                // Every entry is looked at relative to the open folder first; the folder is closed
                // before the walk descends, so a deep tree holds no descriptor per level.
                let directory = try FileSystem.Directory(path, listed: listed)
                var names: [[UInt8]] = []
                var paths: [[UInt8]] = []
                for name in try directory.names() {
                    guard let childPath = keptPath(name, in: path, taggedBy: tagged) else { continue }
                    names.append(name)
                    paths.append(childPath)
                }
                let examined = walk.stats.examine(names, in: directory, folder: path,
                                                  wantsXattrs: xattrsWanted(fresh: parent == nil))
                for (i, entry) in examined.enumerated() { children.append((names[i], paths[i], entry)) }
            }
        } catch {
            record.warn(path, "cannot list folder: \(error)")
        }
        // The subfolders the walk will enter (`archiveEntry`), scanned ahead of it.
        var ahead = FolderScanQueue(scanner: walk.scanner, folders: !walk.scanner.isOn ? [] : children.indices.compactMap { i in
            let child = children[i]
            guard case .success(let st) = child.examined.lstat, st.st_mode & S_IFMT == S_IFDIR,
                  device.map({ UInt64(st.st_dev) == $0 }) ?? true else { return nil }
            let fresh = parent?.node(named: child.name)?.type != .directory
            return (i, child.path, ListedEntry(st), xattrsWanted(fresh: fresh))
        })
        var entries: [PendingEntry] = []
        let folder = ListedFolder(path: path, listed: listed)
        for (i, child) in children.enumerated() {
            if let entry = try archiveEntry(child.path, name: child.name, examined: child.examined, parent: parent?.node(named: child.name),
                                            walk: walk, device: device, folder: folder, scanned: ahead.slot(forChild: i)) {
                entries.append(entry)
            }
        }
        record.count { $0.directories += 1 }
        sendBatch(walk)
        return walk.trees.submit(entries)
    }

    /// The path of the entry `name` of the folder at `folder`, or `nil` when a pattern or a
    /// tag file leaves it out.
    private func keptPath(_ name: [UInt8], in folder: [UInt8], taggedBy tagged: [TagFileRule]) -> [UInt8]? {
        let path = PathBytes.join(folder, name)
        if check?.excludedByName(path) == true || ExclusionCheck.excluded(name, taggedBy: tagged) { return nil }
        return path
    }

    /// Which entries of a folder get their extended attributes read with their `lstat`: in a
    /// folder the parent snapshot does not have (`fresh`), every entry the walk may keep; in
    /// others none, since an unchanged entry takes them from the parent snapshot and the walk
    /// reads those of a changed one itself.
    private func xattrsWanted(fresh: Bool) -> @Sendable (stat) -> Bool {
        guard fresh else { return { _ in false } }
        // Every entry is kept (a folder on another file system as an empty mount point: `archiveEntry`).
        return { _ in true }
    }

    /// Backs up one entry, given what `lstat` said of it (and its extended attributes, where
    /// they were read with it); `nil` (with a warning) when it vanished or cannot be read.
    /// `folder`: the folder it was listed in (`nil` for a path given to the backup);
    /// `scanned`: a folder's scan ahead of the walk (`archiveDirectory`).
    private func archiveEntry(_ path: [UInt8], name: [UInt8], examined: EntryStats.Examined, parent: Node?,
                              walk: Walk, device: UInt64?, folder: ListedFolder? = nil, scanned: FolderScanSlot? = nil) throws -> PendingEntry? {
        let st: stat
        do { st = try examined.lstat.get() } catch {
            record.warn(path, error.code == ENOENT ? "vanished before it could be read" : "cannot stat: \(error)")
            return nil
        }
        if check?.excludedBySize(st) == true { return nil }
        // With `--one-file-system` a folder on another file system is a mount point, kept
        // empty. Anything else on another device lies in a folder on this one: an overlayfs
        // gives each file its layer's device and its folders its own, so leaving those out
        // would save a live system's overlay root without a file. It is kept.
        let otherFileSystem = device.map { UInt64(st.st_dev) != $0 } ?? false
        guard let type = FileSystem.nodeType(st.st_mode) else {
            record.warn(path, "unknown file type, skipped")
            return nil
        }
        var node = Node(name: name, type: type, stat: st, owners: owners)
        if let parent, parent.type == type, parent.inode == node.inode, parent.ctime == node.ctime {
            // Changing an extended attribute changes the ctime: the parent's are still right.
            node.xattrs = parent.xattrs
        } else {
            do throws(FileSystem.Failure) {
                let read = if let early = examined.xattrs { try early.get() } else { try xattrs(of: name, at: path, in: folder) }
                node.xattrs = read.attributes
                for (name, code) in read.unreadable {
                    record.warn(path, "cannot read extended attribute \(PathBytes.display(name)): \(String(cString: strerror(code)))"
                                + (code == E2BIG ? " (larger than the 64 KiB the system gives); left out" : "; left out"))
                }
            } catch {
                switch Self.unreadableXattrs(error, type: type, inode: node.inode, parent: parent) {
                case .leaveOut(let warning):
                    record.warn(path, warning)
                    return nil
                case .keep(let attributes, let warning):
                    node.xattrs = attributes
                    record.warn(path, warning)
                }
            }
        }
        switch type {
        case .file:
            return archiveFile(path, node: node, parent: parent, walk: walk)
        case .directory:
            sendBatch(walk)
            folder?.close()
            if otherFileSystem {
                let previous = parent?.type == .directory ? parent?.subtree : nil
                // A path given to the backup, or a folder on the way to one: backed up, as
                // restic backs up /home in `backup -x / /home`.
                if givenPaths.contains(path) {
                    let tree = try archiveDirectory(path, listed: ListedEntry(st), parent: loadTree(previous), walk: walk, device: UInt64(st.st_dev), scanned: scanned)
                    return .directory(node, tree: tree, path: path, previous: previous)
                }
                let below = givenPaths.filter { $0.count > path.count + 1 && $0.starts(with: path) && $0[path.count] == PathBytes.slash }
                if !below.isEmpty {
                    let targets = SourceTrie()
                    for target in below { targets.insert(Array(target[path.count...])) }
                    record.count { $0.directories += 1 }
                    return .directory(node, tree: try archiveIntermediate(targets, path: path, parent: loadTree(previous), walk: walk),
                                      path: path, previous: previous)
                }
                // A mount point: kept, as restic keeps it, but not entered.
                record.count { $0.directories += 1 }
                return .directory(node, tree: walk.trees.submit([]), path: path, previous: previous)
            }
            let tree = try archiveDirectory(path, listed: ListedEntry(st), parent: parent?.type == .directory ? loadTree(parent?.subtree) : nil,
                                            walk: walk, device: device, scanned: scanned)
            return .directory(node, tree: tree, path: path, previous: parent?.type == .directory ? parent?.subtree : nil)
        case .symlink:
            do { node.linkTarget = try FileSystem.readlink(path) } catch {
                record.warn(path, error.code == EINVAL ? "it is no longer a symlink (replaced since it was listed); left out, the next backup reads it"
                                  : error.code == ENOENT ? "vanished before it could be read" : "cannot read symlink: \(error)")
                return nil
            }
        default:
            break
        }
        return .ready(node)
    }

    /// What becomes of an entry whose extended attributes could not be read.
    enum UnreadableXattrs: Equatable {
        case leaveOut(warning: String)
        case keep([ExtendedAttribute], warning: String)
    }

    /// Stored without its attributes, an entry would look unchanged to the next backup (the
    /// same inode and change time) and keep lacking them: an entry other than a folder is
    /// left out, to be read whole by the next backup, as one whose content cannot be read is;
    /// a folder (whose entries matter more) keeps those of the parent snapshot if it is the
    /// same folder, since a folder's change time changes with every entry added or removed.
    static func unreadableXattrs(_ error: FileSystem.Failure, type: NodeType, inode: UInt64, parent: Node?) -> UnreadableXattrs {
        let reason = error.code == ENOENT ? "it vanished before they could be read"
            : error.replaced ? "its folder was replaced after it was listed (renamed over, or a folder above it swapped for a symlink)"
            : "\(error)"
        guard type == .directory else {
            return .leaveOut(warning: "cannot read extended attributes: \(reason); left out, the next backup reads it")
        }
        guard let parent, parent.type == .directory, parent.inode == inode else {
            return .keep([], warning: "cannot read extended attributes: \(reason); the folder is stored without them")
        }
        return .keep(parent.xattrs, warning: "cannot read extended attributes: \(reason); the folder keeps those of the parent snapshot")
    }

    /// A folder as the walk listed it: its path, and what its parent's listing saw of it
    /// (`nil` for `/`). Opened again, and checked to be the one listed, when the first of its
    /// changed entries needs its extended attributes read; kept open for the others, and
    /// closed before the walk descends, so that a deep tree holds no descriptor per level.
    private final class ListedFolder {
        let path: [UInt8]
        let listed: ListedEntry?
        private var opened: FileSystem.Directory?

        init(path: [UInt8], listed: ListedEntry?) {
            self.path = path
            self.listed = listed
        }

        func directory() throws(FileSystem.Failure) -> FileSystem.Directory {
            if let opened { return opened }
            let directory = try FileSystem.Directory(path, listed: listed)
            opened = directory
            return directory
        }

        func close() { opened = nil }
    }

    /// The extended attributes of an entry its folder's listing did not read them for (one
    /// changed since the parent snapshot): relative to the folder, opened again and checked
    /// to be the one listed, so that a folder swapped for a symlink since is not followed
    /// (`FileSystem.xattrs(_:in:path:)`). A path given to the backup is read by its path.
    private func xattrs(of name: [UInt8], at path: [UInt8], in folder: ListedFolder?) throws(FileSystem.Failure) -> FileSystem.ExtendedAttributes {
        guard let folder else { return try FileSystem.xattrs(path) }
        return try FileSystem.xattrs(name, in: folder.directory().descriptor, path: path)
    }

    /// Whether the parent snapshot may hold an older content of this file than its unchanged
    /// times say. On a file system that keeps whole seconds (exFAT through FUSE, ext3, many
    /// network shares) or 2-second steps (FAT), a file written again within the step in which
    /// the parent read it, with the same size, shows the times the parent recorded, so its new
    /// content would never be read. Such a file (times without a fraction, in the seconds the
    /// parent backup ran) is read again, once: git's "racily clean" rule. Times with
    /// nanoseconds come from a file system whose step is a clock tick, where the window is
    /// too short to matter; files with times from other hours are not affected either.
    private func racy(_ parent: Node) -> Bool {
        guard let window = parentReadWindow, parent.mtime.nanoseconds == 0,
              options.ignoreCtime || parent.ctime.nanoseconds == 0 else { return false }
        return window.contains(parent.mtime.seconds) || (!options.ignoreCtime && window.contains(parent.ctime.seconds))
    }

    /// The seconds from the snapshot's time to its end (time + duration), widened by `racyMargin`.
    static func readWindow(of snapshot: Snapshot) -> ClosedRange<Int64> {
        let start = snapshot.timestamp.seconds
        let duration = Int64(min(max(snapshot.summary?.durationSeconds ?? 0, 0), 1e9).rounded(.up))
        return (start - racyMargin)...(start + duration + racyMargin)
    }

    private func archiveFile(_ path: [UInt8], node: Node, parent: Node?, walk: Walk) -> PendingEntry {
        let key = HardLinkKey(device: node.device, inode: node.inode)
        let parentFile = parent.flatMap { $0.type == .file || $0.type == .hardlink ? $0 : nil }
        let timesMatch = parentFile.map { parent in
            parent.size == node.size && parent.mtime == node.mtime && (options.ignoreCtime || parent.ctime == node.ctime)
                && (options.ignoreInode || parent.inode == node.inode)
        } ?? false
        let reread = timesMatch && parentFile.map(racy) == true
        let sameMetadata = timesMatch && !reread
        if node.links > 1, let first = hardLinks.furtherName(key) {
            let previous = parentFile.map { PreviousName(content: $0.content, sameMetadata: sameMetadata) }
            return .link(node, path: path, firstPath: first.firstPath, first: first.content, previous: previous)
        }
        if let parent, parent.type == .file, sameMetadata, parent.content.allSatisfy({ repository.index.contains($0) }) {
            var node = node
            node.content = parent.content
            record.count {
                $0.filesUnchanged += 1
                $0.bytesProcessed += node.size
            }
            progress.fileDone(bytes: node.size)
            progress.item(path, action: .unchanged, size: node.size)
            hardLinks.addFirst(key, path: path, links: node.links, content: LinkedContent(content: node.content, size: node.size))
            return .ready(node)
        }
        // Further names need only the first's content: not its whole node, nor its batch.
        let linked: Pending<LinkedContent?>? = node.links > 1 ? Pending() : nil
        if let linked { hardLinks.addFirst(key, path: path, links: node.links, pending: linked) }
        let pending = PendingFile(batch: batch.nodes, index: batch.files.count)
        batch.files.append(FileReader.File(path: path, node: node, isChange: parent?.type == .file, linked: linked,
                                           unchangedIf: reread ? parentFile?.content : nil))
        batch.bytes += node.size
        if batch.files.count >= Self.batchFiles || batch.bytes >= Self.batchBytes { sendBatch(walk) }
        return .file(pending)
    }

    /// Sends the open batch of files to the readers and opens a new one.
    private func sendBatch(_ walk: Walk) {
        hardLinks.settle()
        guard !batch.files.isEmpty else { return }
        walk.files.submit(batch.files, fulfilling: batch.nodes)
        batch = Batch()
    }
}

/// The threads a backup's walk hands its work to.
private struct Walk {
    let files: FileReader
    let trees: TreeSaver
    let stats: EntryStats
    let scanner: FolderScanner
}

struct HardLinkKey: Hashable {
    let device: UInt64
    let inode: UInt64
}
