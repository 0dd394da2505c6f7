#if canImport(Glibc)
import Glibc
#endif
import CPosix
import Dispatch
import SnapCore
import SnapRepository
import SnapStorage
import Synchronization

/// Where and what to restore.
public struct RestoreOptions: Sendable {
    /// Files come back under this folder at their snapshot paths (`/home/a/x` → `TARGET/home/a/x`).
    public var target: String
    /// `--include` and kin: only matching entries are restored, with the folders leading to
    /// them; a folder is entered only when an entry below it could match (restic's rules).
    public var include = PatternRules()
    /// `--exclude` and kin: matching entries are not restored, nor anything below them.
    /// restic refuses to combine the two; here an excluded entry is left out even when an
    /// include pattern matches it.
    public var exclude = PatternRules()
    /// Set owners (needs root); by default only when running as root.
    public var restoreOwnership = getuid() == 0
    /// Set the stored user and group numbers, not the numbers the stored names have on this
    /// host (`--numeric-owner`): for a restore from a rescue system into a disk whose own
    /// user database is the one that counts.
    public var numericOwners = false
    public var workers = max(1, System.activeProcessorCount)
    /// Entries planned before a batch is restored (see `Restorer`).
    public var batchSize = 16_384
    /// What to do with entries that already exist in the target.
    public var overwrite = OverwriteMode.ifChanged
    /// After restoring, remove entries of the target that the snapshot (with the
    /// selection) does not have, inside restored folders below `deleteWithin` only.
    public var delete = false
    /// Absolute paths of the restored tree below which `delete` may remove entries;
    /// `["/"]` allows the whole tree. The CLI passes a snapshot's backed-up paths, so that
    /// what lies beside them in the folders leading to them is left alone.
    public var deleteWithin: [String] = ["/"]
    /// The snapshot path of the tree restored (`SNAPSHOT:/sub` restores `/sub`'s tree at the
    /// target's root); empty for a snapshot's root. Hard links name their first names by
    /// full snapshot paths, so this maps them into the tree.
    public var treeRoot: [UInt8] = []
    /// Decide and count everything, write nothing (not even the target folder).
    public var dryRun = false
    /// Read every file written back and compare it with the snapshot, blob by blob
    /// (mismatches go to `RestoreResult.verifyFailures`).
    public var verify = false
    /// Told of each entry restored, updated, left unchanged, skipped or deleted (in a dry
    /// run: that would be), when it is done.
    public var report: (@Sendable (RestoreEvent) -> Void)?
    /// Live counts for a progress display.
    public var progress: RestoreProgress?
    /// Called before each batch's files are read back by `verify` (tests damage a file here).
    var beforeVerify: (@Sendable () -> Void)?
    public init(target: String) { self.target = target }
}

/// Restores a snapshot's tree into a target folder.
///
/// The tree is restored in batches of `RestoreOptions.batchSize` entries in walk order, so memory does
/// not grow with the tree, with includes too: a batch goes once a file is planned, when
/// every folder leading to it is sure to be kept (a folder entered for includes is taken
/// back only when nothing below it was chosen). Within a batch, content is written
/// pack by pack: each needed stretch of a pack is read once, by one of `workers` threads,
/// and every blob is authenticated before it is written with `pwrite`. All-zero blocks
/// are not written, so sparse files stay sparse.
///
/// A folder gets its metadata (mode, owner, times) once the walk has left it and the batch
/// holding its last entries is restored, deepest first, so that writing into it does not
/// change its times; `--delete`'s removals inside it come before. Memory for folders thus
/// grows with the tree's depth, not its size. A folder whose mode denies its owner search
/// (no `u+x`) waits until the end, so that later hard links to files inside it can still
/// reach them.
///
/// A write or create that fails with an error that would repeat (no space, quota,
/// read-only file system, I/O error) stops the restore: the workers finish the blob in
/// hand, nothing further is planned, and `RestoreResult.stopped` says where. A file that
/// was not written completely is removed rather than left at its final size (a restored
/// file is created at that size before its content arrives), and gets no metadata.
///
/// An entry that exists in the target is handled by `RestoreOptions.overwrite`. One that is
/// replaced is removed first and created anew, never written into: a replaced file is a
/// new inode, so other hard links to the old one keep their content, and a symlink in the
/// place of a folder is removed, never followed. Entries are looked at with `lstat` only
/// inside folders that exist as real folders, so nothing is read or written through a
/// symlink in the target (the target path itself may contain symlinks). Another process
/// changing the target during the restore is not guarded against.
public final class Restorer {
    let repository: Repository
    let root: BlobID
    let options: RestoreOptions
    let warn: @Sendable (String) -> Void
    /// Set up by `run`, which may throw for a bad pattern.
    var includes: PathFilter?
    var excludes: PathFilter?
    /// The batch being planned.
    var plan: [PlannedEntry] = []
    /// The most entries one batch held (for tests of the bound).
    private(set) var largestBatch = 0
    var result = RestoreResult()
    let metadata: MetadataWriter
    /// What earlier batches read of the packs their last files use, for later batches (`RestoreSpool`).
    let spool = RestoreSpool()
    /// Decodes trees on the planning thread (one decompression context, not one per folder).
    /// Reads the trees while planning.
    lazy var trees = TreeLoader(repository: repository)
    /// Folders created, in creation order, whose metadata is not applied yet: those the walk
    /// is still inside (at most the tree's depth) and those closed since the last batch.
    var folders: [PlannedEntry] = []
    /// The most folders held at once (for tests of the bound).
    private(set) var mostFoldersHeld = 0
    /// A folder that could not be created: what lies inside is skipped.
    var failedFolder: [UInt8]?
    /// Files created here get the group of a set-group-ID parent: then `chown` is never skipped.
    var groupMayBeInherited = false
    var umaskBits: mode_t = 0o022
    /// Raised at the first failure that would repeat for every file (see `RestoreStop`).
    let stopSignal = RestoreStopSignal()
    /// Files removed because they were not written completely: further names of them are not linked.
    var removedTargets: Set<[UInt8]> = []
    /// Files of the batch counted and not yet told to `options.report`: told once their
    /// content is written, so that `-v` never lists a file that could not be written.
    private var untold: [Int] = []
    /// Entries to remove at the end (`RestoreOptions.delete`).
    var deletions: [Deletion] = []
    /// The target, open: entries are created and changed through it (`TargetRoot`).
    var targetRoot: TargetRoot?
    let deleteScopes: [[UInt8]]

    struct PlannedEntry {
        var target: [UInt8]
        var snapshotPath: [UInt8]
        var node: Node
        /// For a hard link whose first name is restored too: that name's target path.
        var linkTo: [UInt8]?
        var created = false
        var action = EntryAction.create
        /// Whether the planner could not tell that nothing has the name (its `lstat` failed
        /// otherwise than `ENOENT`: a folder its user may not search yet).
        var mayExist = false
        /// Whether a name found taken at creation may be freed: something was there, or may
        /// have been, when the restore planned it (`createNew`).
        var replacing: Bool { action != .create || mayExist }
        /// A folder is where this non-folder entry goes: removed before it is created.
        var replacesFolder = false

        /// A file of exactly one chunk: created, written, given its metadata and closed
        /// on one descriptor when its chunk arrives (one open per file, not four).
        var isWholeBlob: Bool { linkTo == nil && action != .keep && (node.type == .file || node.type == .hardlink) && node.content.count == 1 }
    }

    public init(repository: Repository, tree: BlobID, options: RestoreOptions, warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.repository = repository
        root = tree
        self.options = options
        self.warn = warn
        metadata = MetadataWriter(restoreOwnership: options.restoreOwnership, numericOwners: options.numericOwners)
        deleteScopes = options.deleteWithin.map { SourceTrie.normalise(Array($0.utf8)) }
    }

    /// Restores everything selected. Per-entry failures are collected in the result, not
    /// thrown; a target that cannot take more stops the restore (`RestoreResult.stopped`).
    ///
    /// - Throws: `FilterPatternError` for a pattern that cannot be used, before anything is
    ///   written; when the target cannot be created or the root tree cannot be read.
    public func run() throws -> RestoreResult {
        if !options.include.isEmpty { includes = try PathFilter(options.include) }
        if !options.exclude.isEmpty { excludes = try PathFilter(options.exclude) }
        let target = SourceTrie.normalise(Array(options.target.utf8))
        let targetExists = try makeTarget(target)
        targetRoot = options.dryRun ? nil : TargetRoot(target)
        if let st = try? FileSystem.lstat(target), st.st_mode & S_ISGID != 0 { groupMayBeInherited = true }
        umaskBits = umask(0o022)
        umask(umaskBits)
        let rootTree = try loadTree(root)
        var links = RestoredLinks(target: target)
        _ = try planDirectory(rootTree, snapshotPath: [], target: target, selected: includes == nil, exists: targetExists,
                              links: &links)
        restoreBatch(inside: nil)
        result.unmatchedIncludes = includes?.unmatched ?? []
        result.unmatchedExcludes = excludes?.unmatched ?? []
        result.stopped = stopSignal.stop
        return result
    }

    // MARK: Plan

    /// Loads a tree by whole packs, reading the packs of its subtrees ahead (`TreeLoader`).
    func loadTree(_ id: BlobID) throws -> Tree {
        let tree = try trees.tree(id)
        trees.prefetch(tree.nodes.lazy.compactMap(\.subtree))
        return tree
    }

    /// Adds the selected entries below a tree to the plan; returns whether anything was added.
    ///
    /// - Parameters:
    ///   - selected: the folder itself is restored (not only a way to entries below it),
    ///     so `--delete` may remove what it holds beyond the snapshot's entries.
    ///   - exists: `target` exists as a real folder (not a symlink): only then are
    ///     its entries looked at.
    func planDirectory(_ tree: Tree, snapshotPath: [UInt8], target: [UInt8], selected: Bool, exists: Bool,
                       links: inout RestoredLinks) throws -> Bool {
        var added = false
        for node in tree.nodes {
            if stopSignal.isRaised { break }
            let path = PathBytes.join(snapshotPath.isEmpty ? [PathBytes.slash] : snapshotPath, node.name)
            let (chosen, enter) = select(path, isDirectory: node.type == .directory)
            let entryTarget = PathBytes.join(target, node.name)
            if node.type == .directory {
                guard chosen || enter else { continue }
                let existing = exists ? try? FileSystem.lstat(entryTarget) : nil
                var entry = PlannedEntry(target: entryTarget, snapshotPath: path, node: node)
                let isFolder = existing.map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
                if let existing {
                    if isFolder {
                        entry.action = .keep
                    } else {
                        // A symlink or file where the snapshot has a folder: removed (never
                        // followed), or the folder is left out.
                        entry.action = decide(node, path: entryTarget, existing: existing) == .skip ? .skip : .replace
                        if entry.action == .skip {
                            if chosen { countSkipped(path, node: node) }
                            continue
                        }
                    }
                }
                let index = plan.count
                plan.append(entry)
                var below = false
                if enter, let subtree = node.subtree {
                    do {
                        below = try planDirectory(try loadTree(subtree), snapshotPath: path, target: entryTarget,
                                                  selected: chosen, exists: isFolder, links: &links)
                    } catch {
                        let message = "\(PathBytes.display(path)): cannot read folder contents from the repository: \(error)"
                        result.unreadableFolders.append(message)
                        warn(message)
                    }
                }
                if chosen || below { added = true } else { plan.removeSubrange(index...) }
                continue
            }
            guard chosen else { continue }
            let lookedUp = exists ? Result { () throws(FileSystem.Failure) in try FileSystem.lstat(entryTarget) } : nil
            let existing = try? lookedUp?.get()
            var entry = PlannedEntry(target: entryTarget, snapshotPath: path, node: node)
            if case .failure(let failure)? = lookedUp, failure.code != ENOENT { entry.mayExist = true }
            var firstKept = false
            let firstName = linkName(node.linkTarget)
            if node.type == .hardlink, let first = links.linkTarget(forFurtherNameOf: firstName) {
                entry.linkTo = first.target
                firstKept = first.firstKept
            }
            options.progress?.planned(size: node.type == .file || node.type == .hardlink ? node.size : 0)
            if let existing {
                if let first = entry.linkTo, options.overwrite == .ifChanged {
                    // Left alone when it already is that link: its first name is left as it
                    // was, and both names are one file.
                    entry.action = firstKept && Self.isSameFile(existing, first) ? .keep : .replace
                } else {
                    entry.action = decide(node, path: entryTarget, existing: existing)
                }
            }
            // A first name left alone (skipped or kept) is still what further names link to,
            // when it is a file of its own there: not a planted symlink, nor a file with other
            // names (maybe outside the target). Then a further name stands in for it instead,
            // written from its own content list.
            let untouched = entry.action == .keep || entry.action == .skip
            let linkable = !untouched || existing.map {
                $0.st_mode & S_IFMT == S_IFREG && ($0.st_nlink == 1 || entry.action == .keep && UInt64($0.st_nlink) == node.links)
            } ?? true
            if node.type == .file, linkable {
                links.restoredFirst(path, links: node.links, kept: untouched)
            } else if node.type == .hardlink && entry.linkTo == nil && linkable {
                links.restoredStandIn(for: firstName, at: entryTarget, kept: untouched)
            }
            if let existing {
                if entry.action == .skip {
                    countSkipped(path, node: node)
                    continue
                }
                entry.replacesFolder = entry.action == .replace && existing.st_mode & S_IFMT == S_IFDIR
            }
            plan.append(entry)
            added = true
            // Every folder leading here now stays in the plan (it has this file below it), and
            // folders planned before were settled when their walk returned: nothing planned
            // can be taken back, so a full batch can go. (Frames that captured a position in
            // `plan` before this point only use it when nothing below them was added.)
            if plan.count >= options.batchSize { restoreBatch(inside: entryTarget) }
        }
        if options.delete && exists && (selected || added) && !stopSignal.isRaised {
            planDeletions(in: tree, target: target, snapshotPath: snapshotPath, selected: selected)
        }
        return added
    }

    /// A hard link's first name as a path in the restored tree (`options.treeRoot` taken
    /// off). A first name outside that tree gets a key no path in it can have (a NUL byte
    /// first), so that its further names stand in for it together, never joining a file
    /// of the tree that happens to have the same relative path.
    func linkName(_ firstName: [UInt8]) -> [UInt8] {
        let root = options.treeRoot
        guard !root.isEmpty, root != [PathBytes.slash] else { return firstName }
        return PathBytes.below(root, firstName) ?? [0] + firstName
    }

    /// Whether the entry at snapshot `path` is restored, and whether the walk enters it
    /// (restic's select filters: an excluded entry is neither; with includes, a folder is
    /// entered when an entry below it could match).
    func select(_ path: [UInt8], isDirectory: Bool) -> (restore: Bool, enter: Bool) {
        if let excludes, excludes.matches(path) { return (false, false) }
        guard let includes else { return (true, isDirectory) }
        let (matched, childMayMatch) = includes.matchesWithChild(path)
        return (matched, childMayMatch && isDirectory)
    }

    /// Restores the planned entries and starts a new batch; then carries out the deletions
    /// planned so far (in folders the walk has left) and finishes the folders the walk has left.
    ///
    /// - Parameter position: the target path of the entry just planned (the walk is inside
    ///   every folder above it); `nil` at the end of the walk.
    func restoreBatch(inside position: [UInt8]?) {
        largestBatch = max(largestBatch, plan.count)
        if options.dryRun {
            for e in plan { count(e) }
            plan.removeAll(keepingCapacity: true)
            carryOutDeletions()
            return
        }
        if !plan.isEmpty {
            createEntries()
            let content = writeContent(keeping: position == nil ? [] : tailPacks())
            removeUnwritten(content.unwritten)
            for i in untold where !content.unwritten.contains(i) {
                tell(plan[i].action == .replace ? .updated : .restored, plan[i].snapshotPath, plan[i].node)
            }
            untold.removeAll(keepingCapacity: true)
            createDeferred(content)
            applyMetadata(skipping: content.finished.union(content.unwritten), damaged: content.damaged)
            if options.verify && !stopSignal.isRaised { verifyBatch(content) }
            plan.removeAll(keepingCapacity: true)
        }
        // After a stop, folders keep the owner-only mode they were created with.
        guard !stopSignal.isRaised else { return }
        carryOutDeletions()
        guard !stopSignal.isRaised else { return }
        finishFolders(outside: position)
    }

    // MARK: Create

    /// Creates the target folder and those above it (in a dry run, only checks); returns
    /// whether it existed.
    ///
    /// - Throws: `EngineError.targetUnavailable` when it cannot be created or is not a folder.
    func makeTarget(_ target: [UInt8]) throws -> Bool {
        if var st = try? FileSystem.lstat(target) {
            // A target that is a symbolic link to a folder is followed (as restic does, and as
            // the folders above it are); what is restored below it is never followed.
            if st.st_mode & S_IFMT == S_IFLNK, let followed = try? FileSystem.statFollowingLinks(target) { st = followed }
            guard st.st_mode & S_IFMT == S_IFDIR else {
                throw EngineError.targetUnavailable(path: PathBytes.display(target), reason: "not a folder")
            }
            return true
        }
        if options.dryRun { return false }
        var prefix: [UInt8] = []
        for component in PathBytes.components(target) {
            prefix = PathBytes.join(prefix.isEmpty ? [PathBytes.slash] : prefix, component)
            let ok = PathBytes.withCString(prefix) { mkdir($0, 0o755) }
            if ok != 0 && errno != EEXIST {
                throw EngineError.targetUnavailable(path: PathBytes.display(target), reason: String(cString: strerror(errno)))
            }
        }
        if let st = try? FileSystem.lstat(target), (st.st_mode & S_IFMT) != S_IFDIR {
            throw EngineError.targetUnavailable(path: PathBytes.display(target), reason: "not a folder")
        }
        return false
    }

    /// Records a problem on the target's side. After a stop it is counted but not told:
    /// the one stop message stands for every failure it causes.
    func record(_ message: String) {
        result.errors.append(message)
        if !stopSignal.isRaised { warn(message) }
    }

    func createEntries() {
        for i in plan.indices {
            if stopSignal.isRaised { break }
            let e = plan[i]
            // Entries are planned parents first: skip what lies inside a folder that failed.
            if let failed = failedFolder, e.target.starts(with: failed + [PathBytes.slash]) { continue }
            failedFolder = nil
            if e.replacesFolder && !clearFolder(in: e) {
                if stopSignal.isRaised { break }
                continue
            }
            // Created when their content is written; further names once their first exists
            // (and counted then).
            if e.isWholeBlob || e.linkTo != nil || (e.action == .keep && e.node.type != .directory) {
                plan[i].created = true
                if e.linkTo == nil || e.action == .keep { count(e, tellingOnceWritten: i) }
                continue
            }
            let failed: Int32? = atFolder(e.target) { folder, name in PathBytes.withCString(name) { path in
                switch e.node.type {
                case .directory:
                    if mkdirat(folder, path, 0o700) == 0 { return nil }
                    var st = stat()
                    guard errno == EEXIST, fstatat(folder, path, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return errno }
                    if (st.st_mode & S_IFMT) == S_IFDIR {
                        if st.st_mode & S_ISGID != 0 { groupMayBeInherited = true }
                        // A folder there already that its owner may not fill (read-only, as
                        // Go's module cache, or without search permission): opened for the
                        // owner while it is filled, as a folder created here is (0700); its
                        // mode is set from the snapshot once it is done. Root needs neither.
                        if geteuid() != 0 && st.st_uid == geteuid() && st.st_mode & 0o300 != 0o300 {
                            fchmodat(folder, path, mode_t(st.st_mode & 0o7777) | 0o700, 0)
                        }
                        return nil
                    }
                    // A symlink or file in the way, planned to be replaced: removed, not followed.
                    guard e.action == .replace else { return EEXIST }
                    return unlinkat(folder, path, 0) == 0 && mkdirat(folder, path, 0o700) == 0 ? nil : errno
                case .file, .hardlink:
                    // Size first: blobs that are all zeros are then simply not written (holes).
                    return Self.createSized(in: folder, name, size: e.node.size, replacing: e.replacing)
                case .symlink:
                    // A target holding a NUL byte (possible in an imported tree) would be cut
                    // there and name something else: refused, as restic's restore refuses it.
                    if e.node.linkTarget.contains(0) { return EINVAL }
                    unlinkat(folder, path, 0)
                    return PathBytes.withCString(e.node.linkTarget) { symlinkat($0, folder, path) } == 0 ? nil : errno
                case .fifo:
                    unlinkat(folder, path, 0)
                    return mkfifoat(folder, path, 0o600) == 0 ? nil : errno
                case .socket:
                    unlinkat(folder, path, 0)
                    return mknodat(folder, path, S_IFSOCK | 0o600, 0) == 0 ? nil : errno
                case .characterDevice, .blockDevice:
                    unlinkat(folder, path, 0)
                    let kind = e.node.type == .characterDevice ? S_IFCHR : S_IFBLK
                    return mknodat(folder, path, kind | 0o600, dev_t(e.node.rdev)) == 0 ? nil : errno
                }
            } }
            if let failed {
                // FUSE drivers of file systems without special files (exFAT, FAT) answer their
                // creation with EIO: a failure of this entry, not of the target.
                let special = ![.directory, .file, .hardlink].contains(e.node.type)
                if RestoreStop.stops(failed) && !(special && failed == EIO) {
                    stopSignal.raise(code: failed, path: e.target)
                    break
                }
                record("\(PathBytes.display(e.snapshotPath)): \(Self.cannotCreate(failed, e.node.type))")
                if e.node.type == .directory { failedFolder = e.target }
                continue
            }
            plan[i].created = true
            count(e, tellingOnceWritten: i)
            if e.node.type == .directory { folders.append(plan[i]) }
        }
    }

    /// Counts an entry restored, replaced or left unchanged, and tells `options.report`;
    /// a file to be written, entry `written` of the plan, only once its content is.
    func count(_ e: PlannedEntry, tellingOnceWritten written: Int? = nil) {
        if e.action == .keep && e.node.type != .directory {
            result.unchanged += 1
            tell(.unchanged, e.snapshotPath, e.node)
            return
        }
        switch e.node.type {
        case .directory: result.directories += 1
        case .file, .hardlink: result.files += 1; if e.linkTo == nil { result.bytes += e.node.size }
        default: result.otherEntries += 1
        }
        if e.action == .replace { result.updated += 1 }
        guard e.action != .keep else { return }
        if let written, e.node.type == .file || e.node.type == .hardlink, e.linkTo == nil {
            untold.append(written)
        } else {
            tell(e.action == .replace ? .updated : .restored, e.snapshotPath, e.node)
        }
    }

    /// Whether `existing` (a name's `lstat`) is the file at `path`: the same inode on the same device.
    static func isSameFile(_ existing: stat, _ path: [UInt8]) -> Bool {
        guard let there = try? FileSystem.lstat(path) else { return false }
        return existing.st_ino == there.st_ino && existing.st_dev == there.st_dev
    }

    /// Runs `body` with a path for `target` that reaches its folder without following a
    /// symlink (`TargetRoot`); the `errno` when that folder cannot be reached so.
    func atTarget(_ target: [UInt8], _ body: (UnsafePointer<CChar>) -> Int32?) -> Int32? {
        atTarget(target, failing: { $0 }, body)
    }

    func atTarget<T>(_ target: [UInt8], failing: (Int32) -> T, _ body: (UnsafePointer<CChar>) -> T) -> T {
        targetRoot.withPath(target, failing: failing, body)
    }

    /// Runs `body` with `target`'s folder and name (`TargetRoot.withFolder`); the `errno`
    /// when that folder cannot be reached without following a symlink.
    func atFolder(_ target: [UInt8], _ body: (Int32, [UInt8]) -> Int32?) -> Int32? {
        targetRoot.withFolder(target, failing: { $0 }, body)
    }

    /// Why an entry's folder could not be reached: `ELOOP`, a folder on the way was swapped
    /// for a symlink while the restore ran, is said so.
    static func unreachable(_ code: Int32) -> String {
        code == ELOOP ? "not restored: a folder on the way was replaced by a symbolic link while the restore ran"
            : "cannot reach its folder: " + String(cString: strerror(code))
    }

    /// "cannot create: REASON", with what usually causes REASON on a target that is not a
    /// POSIX file system (a USB disk formatted FAT, exFAT or NTFS).
    static func cannotCreate(_ code: Int32, _ type: NodeType) -> String {
        let reason = "cannot create: " + String(cString: strerror(code))
        let unsupported = [EIO, EPERM, ENOSYS, EOPNOTSUPP].contains(code)
        switch (code, type) {
        case (ELOOP, _):
            return reason + " (a folder on the way was replaced by a symbolic link while the restore ran: nothing is written through it)"
        case (EINVAL, .symlink):  // a target holding a NUL byte
            return reason
        case (EEXIST, _):
            return reason + " (it was free when the restore began: on a target that ignores case (exFAT, FAT, NTFS, APFS), "
                + "another entry of this folder restored under another spelling; this one is not restored)"
        case (ENOENT, _), (EINVAL, _), (EILSEQ, _):
            return reason + " (the target file system may not allow this name: FAT, exFAT and NTFS refuse : * ? \" < > | \\ "
                + "and control characters, and exFAT names that are not UTF-8)"
        case (_, .symlink) where unsupported:
            return reason + " (the target file system may not hold symbolic links)"
        case (_, .fifo) where unsupported, (_, .socket) where unsupported, (_, .characterDevice) where unsupported,
             (_, .blockDevice) where unsupported:
            return reason + " (the target file system may not hold fifos, sockets or devices)"
        default:
            return reason
        }
    }

    /// Creates (or replaces) an empty file `name` of `size` bytes in `folder` to be written
    /// into later; `errno` on failure, with nothing left at the name (EFBIG from a file
    /// system or `ulimit -f` left an empty file that looked restored).
    static func createSized(in folder: Int32, _ name: [UInt8], size: UInt64, replacing: Bool = true) -> Int32? {
        let fd = createNew(in: folder, name, mode: 0o600, replacing: replacing)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) != 0 else { return nil }
        let code = errno
        _ = PathBytes.withCString(name) { unlinkat(folder, $0, 0) }
        return code
    }

    /// Creates a new regular file `name` in `folder` (`AT_FDCWD`: a path) with `mode`,
    /// replacing whatever non-folder has the name; -1 with `errno` on failure: `unlink`'s
    /// when what has the name cannot be removed (a folder that may not be written, an
    /// immutable file), which then stays as it was.
    ///
    /// With `replacing` false (nothing had the name when the restore planned it), a name
    /// taken since is not freed: `EEXIST`. On a file system that ignores case (exFAT, FAT,
    /// NTFS, APFS) it is an entry this restore wrote under another spelling (`File` before
    /// `file`), which must not be lost without a word.
    static func createNew(in folder: Int32, _ name: [UInt8], mode: mode_t, replacing: Bool = true) -> Int32 {
        PathBytes.withCString(name) { path in
            let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
            let fd = openat(folder, path, flags, mode)
            guard fd < 0 && errno == EEXIST && replacing else { return fd }
            guard unlinkat(folder, path, 0) == 0 || errno == ENOENT else { return -1 }
            return openat(folder, path, flags, mode)
        }
    }

    /// Removes the files of this batch that were not written completely, so that none is
    /// left at its final size with missing content; they are reported in `result.unwritten`.
    /// Whole-blob files need nothing here: `writeWhole` removes what it created.
    func removeUnwritten(_ unwritten: Set<Int>) {
        for i in unwritten.sorted() {
            let e = plan[i]
            if !e.isWholeBlob {
                let failed: Int32? = atTarget(e.target) { path in
                    if unlink(path) == 0 || errno == ENOENT { return nil }
                    let code = errno
                    // Not removable: at least do not leave it at its final size.
                    return truncate(path, 0) == 0 ? nil : code
                }
                if let failed {
                    // Told even after a stop: this file is left behind looking restored.
                    let message = "\(PathBytes.display(e.snapshotPath)): written incompletely and cannot be removed: "
                        + String(cString: strerror(failed))
                    result.errors.append(message)
                    warn(message)
                }
            }
            markUnwritten(e)
            removedTargets.insert(e.target)
        }
    }

    /// Takes a file out of the restored counts and into `result.unwritten`.
    func markUnwritten(_ e: PlannedEntry) {
        result.files -= 1
        if e.action == .replace { result.updated -= 1 }
        if e.linkTo == nil { result.bytes -= e.node.size }
        result.unwritten.append(PathBytes.display(e.snapshotPath))
    }

    /// Whole-blob files whose chunk is damaged in the repository (created empty at their
    /// size, as the others were), then further names of hard-linked files.
    func createDeferred(_ content: ContentOutcome) {
        for i in content.damagedWhole.sorted() {
            let e = plan[i]
            let failed = atFolder(e.target) { Self.createSized(in: $0, $1, size: e.node.size) }
            guard let failed else { continue }
            if RestoreStop.stops(failed) { stopSignal.raise(code: failed, path: e.target) }
            record("\(PathBytes.display(e.snapshotPath)): cannot create: \(String(cString: strerror(failed)))")
        }
        for e in plan where e.created {
            guard let first = e.linkTo, e.action != .keep else { continue }
            if removedTargets.contains(first) {
                result.unwritten.append(PathBytes.display(e.snapshotPath))
                continue
            }
            let failed: Int32? = atTarget(e.target) { path in
                unlink(path)
                return atTarget(first) { link($0, path) == 0 ? nil : errno }
            }
            guard let failed else {
                count(e)
                continue
            }
            if RestoreStop.stops(failed) { stopSignal.raise(code: failed, path: e.target) }
            if stopSignal.isRaised {
                result.unwritten.append(PathBytes.display(e.snapshotPath))  // its first name may never have been reached
            } else {
                record("\(PathBytes.display(e.snapshotPath)): cannot create: \(String(cString: strerror(failed)))")
            }
        }
    }

    // MARK: Metadata

    /// Owners, extended attributes, modes and times of the batch's entries not finished
    /// with their content, except folders.
    ///
    /// Files with damaged ranges (`damaged`) keep the time of this restore, not the
    /// snapshot's: with the snapshot's size and time a later restore (`--overwrite
    /// if-changed`, from a repaired repository or a mirror) would take them for restored
    /// and leave the holes; with another time it compares them and writes what they lack.
    func applyMetadata(skipping finished: Set<Int>, damaged: Set<Int> = []) {
        for (i, e) in plan.enumerated() where e.node.type != .directory && e.created && e.linkTo == nil && !finished.contains(i) {
            apply(e, times: !damaged.contains(i))
        }
    }

    /// Applies the metadata of the folders the walk has left (all of them at the end),
    /// deepest first, so that nothing written into them afterwards changes their times and
    /// read-only folders stay writable while they are filled.
    ///
    /// - Parameter position: the walk is inside every folder above this target path; `nil`: none.
    func finishFolders(outside position: [UInt8]?) {
        mostFoldersHeld = max(mostFoldersHeld, folders.count)
        var open: [PlannedEntry] = []
        var done: [PlannedEntry] = []
        for e in folders {
            let isOpen = position.map { $0.starts(with: e.target + [PathBytes.slash]) } ?? false
            // No search permission for the owner: a later hard link could not reach its files.
            let waits = position != nil && e.node.mode & UInt32(S_IXUSR) == 0
            if isOpen || waits { open.append(e) } else { done.append(e) }
        }
        for e in done.reversed() { apply(e) }
        folders = open
    }

    func apply(_ e: PlannedEntry, times: Bool = true) {
        let messages = atTarget(e.target, failing: { ["\(PathBytes.display(e.snapshotPath)): \(Self.unreachable($0))"] }) {
            metadata.apply(e.node, snapshotPath: e.snapshotPath, path: $0, fd: nil, wasThere: e.action == .keep, times: times)
        }
        for message in messages { record(message) }
    }
}
