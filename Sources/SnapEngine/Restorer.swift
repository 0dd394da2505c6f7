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
    public var includes: [String] = []
    public var excludes: [String] = []
    /// Set owners (needs root); by default only when running as root.
    public var restoreOwnership = getuid() == 0
    public var workers = max(1, System.activeProcessorCount)
    /// Entries restored per batch when there are no includes (see `Restorer`).
    public var batchSize = 16_384
    public init(target: String) { self.target = target }
}

/// The outcome of a restore.
///
/// Failures on the target's side (`errors`, `unwritten`, `stopped`) are kept apart from
/// damage in the repository (`unreadableFolders`, `damagedBlobs`), so that messages never
/// blame one for the other.
public struct RestoreResult: Sendable {
    /// Files restored: written completely, or with damaged ranges named in `damagedBlobs`.
    public var files = 0
    public var directories = 0
    public var otherEntries = 0
    /// The bytes of the files counted in `files`.
    public var bytes: UInt64 = 0
    /// Entries that could not be created, written or given their metadata in the target
    /// (each message names its path); the rest was restored.
    public var errors: [String] = []
    /// Folders whose contents could not be read from the repository (each message names its path).
    public var unreadableFolders: [String] = []
    /// Blobs that were missing, unreadable or failed authentication in the repository, with
    /// the snapshot paths of the files they belong to.
    public var damagedBlobs: [(blob: BlobID, reason: String, files: [String])] = []
    /// Snapshot paths of files that could not be written completely to the target. None is
    /// left behind: each was removed (or never created), so no file in the target has its
    /// final size and times without its content.
    public var unwritten: [String] = []
    /// Set when the restore stopped early because the target cannot take more (no space,
    /// quota, read-only, I/O errors); what was not reached is not restored.
    public var stopped: RestoreStop?

    public var succeeded: Bool {
        errors.isEmpty && unreadableFolders.isEmpty && damagedBlobs.isEmpty && unwritten.isEmpty && stopped == nil
    }

    /// How many files have damaged, missing or unreadable data in the repository.
    public var damagedFiles: Int { Set(damagedBlobs.flatMap(\.files)).count }
}

/// Restores a snapshot's tree into a target folder.
///
/// The tree is restored in batches of `RestoreOptions.batchSize` entries in walk order, so memory does
/// not grow with the tree (with `includes`, whose selection is only known once a folder
/// has been walked, the whole plan is made first). Within a batch, content is written
/// pack by pack: each needed stretch of a pack is read once, by one of `workers` threads,
/// and every blob is authenticated before it is written with `pwrite`. All-zero blocks
/// are not written, so sparse files stay sparse. Folders get their metadata last.
///
/// A write or create that fails with an error that would repeat (no space, quota,
/// read-only file system, I/O error) stops the restore: the workers finish the blob in
/// hand, nothing further is planned, and `RestoreResult.stopped` says where. A file that
/// was not written completely is removed rather than left at its final size (a restored
/// file is created at that size before its content arrives), and gets no metadata.
public final class Restorer {
    private let repository: Repository
    private let root: BlobID
    private let options: RestoreOptions
    private let warn: @Sendable (String) -> Void
    private let includes: PathMatcher
    private let excludes: PathMatcher
    /// The batch being planned.
    private var plan: [PlannedEntry] = []
    private var result = RestoreResult()
    private let metadata: MetadataWriter
    /// Decodes trees on the planning thread (one decompression context, not one per folder).
    private lazy var treeDecoder = try? BlobDecoder(keys: repository.keys)
    /// Folders created, in creation order, for their metadata at the end.
    private var folders: [PlannedEntry] = []
    /// A folder that could not be created: what lies inside is skipped.
    private var failedFolder: [UInt8]?
    /// Files created here get the group of a set-group-ID parent: then `chown` is never skipped.
    private var groupMayBeInherited = false
    private var umaskBits: mode_t = 0o022
    /// Raised at the first failure that would repeat for every file (see `RestoreStop`).
    private let stopSignal = RestoreStopSignal()
    /// Files removed because they were not written completely: further names of them are not linked.
    private var removedTargets: Set<[UInt8]> = []

    struct PlannedEntry {
        var target: [UInt8]
        var snapshotPath: [UInt8]
        var node: Node
        /// For a hard link whose first name is restored too: that name's target path.
        var linkTo: [UInt8]?
        var created = false

        /// A file of exactly one chunk: created, written, given its metadata and closed
        /// on one descriptor when its chunk arrives (one open per file, not four).
        var isWholeBlob: Bool { linkTo == nil && (node.type == .file || node.type == .hardlink) && node.content.count == 1 }
    }

    public init(repository: Repository, tree: BlobID, options: RestoreOptions, warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.repository = repository
        root = tree
        self.options = options
        self.warn = warn
        includes = PathMatcher(options.includes)
        excludes = PathMatcher(options.excludes)
        metadata = MetadataWriter(restoreOwnership: options.restoreOwnership)
    }

    /// Restores everything selected. Per-entry failures are collected in the result, not
    /// thrown; a target that cannot take more stops the restore (`RestoreResult.stopped`).
    ///
    /// - Throws: when the target cannot be created or the root tree cannot be read.
    public func run() throws -> RestoreResult {
        let target = SourceTrie.normalise(options.target)
        try makeTarget(target)
        if let st = try? FileSystem.lstat(target), st.st_mode & S_ISGID != 0 { groupMayBeInherited = true }
        umaskBits = umask(0o022)
        umask(umaskBits)
        let rootTree = try loadTree(root)
        var links = RestoredLinks(target: target)
        _ = try planDirectory(rootTree, snapshotPath: [], target: target, selected: includes.isEmpty, links: &links)
        restoreBatch()
        // After a stop, folders keep the owner-only mode they were created with.
        if !stopSignal.isRaised { applyFolderMetadata() }
        result.stopped = stopSignal.stop
        return result
    }

    // MARK: Plan

    private func loadTree(_ id: BlobID) throws -> Tree {
        do {
            return try Tree.decode(try repository.loadBlob(id, decoder: treeDecoder))
        } catch let e as DecodingFailure {
            throw EngineError.treeDamaged(id: id.short, reason: "\(e)")
        }
    }

    /// Adds the selected entries below a tree to the plan; returns whether anything was added.
    private func planDirectory(_ tree: Tree, snapshotPath: [UInt8], target: [UInt8], selected: Bool,
                               links: inout RestoredLinks) throws -> Bool {
        var added = false
        for node in tree.nodes {
            if stopSignal.isRaised { break }
            let path = PathBytes.join(snapshotPath.isEmpty ? [PathBytes.slash] : snapshotPath, node.name)
            if excludes.matches(path: path, name: node.name) { continue }
            let chosen = selected || includes.matches(path: path, name: node.name)
            let entryTarget = PathBytes.join(target, node.name)
            if node.type == .directory {
                let index = plan.count
                plan.append(PlannedEntry(target: entryTarget, snapshotPath: path, node: node))
                var below = false
                if let subtree = node.subtree {
                    do {
                        below = try planDirectory(try loadTree(subtree), snapshotPath: path, target: entryTarget,
                                                  selected: chosen, links: &links)
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
            var entry = PlannedEntry(target: entryTarget, snapshotPath: path, node: node)
            if node.type == .hardlink {
                if let first = links.linkTarget(forFurtherNameOf: node.linkTarget) {
                    entry.linkTo = first
                } else {
                    links.restoredStandIn(for: node.linkTarget, at: entryTarget)
                }
            } else if node.type == .file {
                links.restoredFirst(path, links: node.links)
            }
            plan.append(entry)
            added = true
            // Without includes nothing planned is taken back, so a full batch can go now.
            if includes.isEmpty && plan.count >= options.batchSize { restoreBatch() }
        }
        return added
    }

    /// Restores the planned entries and starts a new batch.
    private func restoreBatch() {
        guard !plan.isEmpty else { return }
        createEntries()
        let content = writeContent()
        removeUnwritten(content.unwritten)
        createDeferred(content)
        applyMetadata(skipping: content.finished.union(content.unwritten))
        plan.removeAll(keepingCapacity: true)
    }

    // MARK: Create

    private func makeTarget(_ target: [UInt8]) throws {
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
    }

    /// Records a problem on the target's side. After a stop it is counted but not told:
    /// the one stop message stands for every failure it causes.
    private func record(_ message: String) {
        result.errors.append(message)
        if !stopSignal.isRaised { warn(message) }
    }

    private func createEntries() {
        for i in plan.indices {
            if stopSignal.isRaised { break }
            let e = plan[i]
            // Entries are planned parents first: skip what lies inside a folder that failed.
            if let failed = failedFolder, e.target.starts(with: failed + [PathBytes.slash]) { continue }
            failedFolder = nil
            // Created when their content is written; further names once their first exists.
            if e.isWholeBlob || e.linkTo != nil {
                plan[i].created = true
                count(e)
                continue
            }
            let failed: Int32? = PathBytes.withCString(e.target) { path in
                switch e.node.type {
                case .directory:
                    if mkdir(path, 0o700) == 0 { return nil }
                    if errno == EEXIST, let st = try? FileSystem.lstat(e.target), (st.st_mode & S_IFMT) == S_IFDIR {
                        if st.st_mode & S_ISGID != 0 { groupMayBeInherited = true }
                        return nil
                    }
                    return errno
                case .file, .hardlink:
                    // Size first: blobs that are all zeros are then simply not written (holes).
                    return Self.createSized(path, size: e.node.size)
                case .symlink:
                    unlink(path)
                    return PathBytes.withCString(e.node.linkTarget) { symlink($0, path) } == 0 ? nil : errno
                case .fifo:
                    unlink(path)
                    return mkfifo(path, 0o600) == 0 ? nil : errno
                case .socket:
                    unlink(path)
                    return mknod(path, S_IFSOCK | 0o600, 0) == 0 ? nil : errno
                case .characterDevice, .blockDevice:
                    unlink(path)
                    let kind = e.node.type == .characterDevice ? S_IFCHR : S_IFBLK
                    return mknod(path, kind | 0o600, dev_t(e.node.rdev)) == 0 ? nil : errno
                }
            }
            if let failed {
                if RestoreStop.stops(failed) {
                    stopSignal.raise(code: failed, path: e.target)
                    break
                }
                record("\(PathBytes.display(e.snapshotPath)): cannot create: \(String(cString: strerror(failed)))")
                if e.node.type == .directory { failedFolder = e.target }
                continue
            }
            plan[i].created = true
            count(e)
            if e.node.type == .directory { folders.append(plan[i]) }
        }
    }

    private func count(_ e: PlannedEntry) {
        switch e.node.type {
        case .directory: result.directories += 1
        case .file, .hardlink: result.files += 1; if e.linkTo == nil { result.bytes += e.node.size }
        default: result.otherEntries += 1
        }
    }

    /// Creates (or replaces) an empty file of `size` bytes to be written into later;
    /// `errno` on failure.
    private static func createSized(_ path: UnsafePointer<CChar>, size: UInt64) -> Int32? {
        let fd = createNew(path, mode: 0o600)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        return ftruncate(fd, off_t(size)) == 0 ? nil : errno
    }

    /// Creates a new regular file with `mode`, replacing whatever non-folder has the name;
    /// -1 with `errno` on failure.
    private static func createNew(_ path: UnsafePointer<CChar>, mode: mode_t) -> Int32 {
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        let fd = open(path, flags, mode)
        guard fd < 0 && errno == EEXIST else { return fd }
        unlink(path)
        return open(path, flags, mode)
    }

    /// Removes the files of this batch that were not written completely, so that none is
    /// left at its final size with missing content; they are reported in `result.unwritten`.
    /// Whole-blob files need nothing here: `writeWhole` removes what it created.
    private func removeUnwritten(_ unwritten: Set<Int>) {
        for i in unwritten.sorted() {
            let e = plan[i]
            if !e.isWholeBlob {
                let failed: Int32? = PathBytes.withCString(e.target) { path in
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
    private func markUnwritten(_ e: PlannedEntry) {
        result.files -= 1
        if e.linkTo == nil { result.bytes -= e.node.size }
        result.unwritten.append(PathBytes.display(e.snapshotPath))
    }

    /// Whole-blob files whose chunk is damaged in the repository (created empty at their
    /// size, as the others were), then further names of hard-linked files.
    private func createDeferred(_ content: ContentOutcome) {
        for i in content.damagedWhole.sorted() {
            let e = plan[i]
            let failed = PathBytes.withCString(e.target) { Self.createSized($0, size: e.node.size) }
            guard let failed else { continue }
            if RestoreStop.stops(failed) { stopSignal.raise(code: failed, path: e.target) }
            record("\(PathBytes.display(e.snapshotPath)): cannot create: \(String(cString: strerror(failed)))")
        }
        for e in plan where e.created {
            guard let first = e.linkTo else { continue }
            if removedTargets.contains(first) {
                markUnwritten(e)
                continue
            }
            let failed: Int32? = PathBytes.withCString(e.target) { path in
                unlink(path)
                return PathBytes.withCString(first) { link($0, path) } == 0 ? nil : errno
            }
            guard let failed else { continue }
            if RestoreStop.stops(failed) { stopSignal.raise(code: failed, path: e.target) }
            if stopSignal.isRaised {
                markUnwritten(e)  // its first name may never have been reached
            } else {
                record("\(PathBytes.display(e.snapshotPath)): cannot create: \(String(cString: strerror(failed)))")
            }
        }
    }

    // MARK: Content

    private struct BlobUse { let file: Int32; let offset: UInt64 }

    /// What a restore worker needs to know about one planned file.
    private struct FileTarget: Sendable {
        let path: [UInt8]
        let snapshotPath: [UInt8]
        let node: Node
        let isWholeBlob: Bool
    }

    /// What writing a batch's content left, by plan index.
    private struct ContentOutcome {
        /// Whole-blob files written and given their metadata.
        var finished: Set<Int> = []
        /// Whole-blob files whose only chunk is damaged in the repository.
        var damagedWhole: Set<Int> = []
        /// Files not written completely for reasons on the target's side (or because the
        /// restore stopped first).
        var unwritten: Set<Int> = []
    }

    /// What one pack's worker did.
    private struct PackOutcome: Sendable {
        /// Blobs missing, unreadable or damaged in the repository.
        var failed: [(BlobID, String)] = []
        /// Whole-blob files written and given their metadata.
        var finished: [Int] = []
        /// Metadata problems of the whole-blob files finished.
        var problems: [String] = []
        /// One plan index per blob use written.
        var written: [Int32] = []
        /// Files whose write failed on the target's side.
        var unwritable: [(file: Int32, error: FileSystem.Failure)] = []
    }

    /// Writes every needed blob, pack by pack on `workers` threads, and sorts the batch's
    /// files by outcome: complete, damaged in the repository (kept, with the damaged ranges
    /// as holes), or not written completely on the target's side (to be removed).
    private func writeContent() -> ContentOutcome {
        var uses: [BlobID: [BlobUse]] = [:]
        var byPack: [PackID: [BlobLocation]] = [:]
        var missing: [BlobID] = []
        /// Blob uses per file: complete when that many were written.
        var planned: [Int: Int] = [:]
        for (i, e) in plan.enumerated() where e.created && e.linkTo == nil && (e.node.type == .file || e.node.type == .hardlink) {
            var offset: UInt64 = 0
            for id in e.node.content {
                let location = repository.index.lookup(id)
                if uses[id] == nil {
                    if let location { byPack[location.pack, default: []].append(location) } else { missing.append(id) }
                }
                uses[id, default: []].append(BlobUse(file: Int32(i), offset: offset))
                planned[i, default: 0] += 1
                // Without an index entry the chunk's length is unknown, so later chunks
                // cannot be placed: the file is reported damaged from here on.
                guard let length = location?.entry.rawLength else { break }
                offset += UInt64(length)
            }
        }
        let packs = byPack.flatMap { pack, blobs in Self.stretches(blobs).map { (pack, $0) } }
        let files = plan.map { FileTarget(path: $0.target, snapshotPath: $0.snapshotPath, node: $0.node, isWholeBlob: $0.isWholeBlob) }
        let outcomes = Mutex(PackOutcome(failed: missing.map { ($0, "is not in any index") }))
        let uses_ = uses
        let repository = self.repository
        let stop = stopSignal
        let creation = Creation(umask: umaskBits, groupMayBeInherited: groupMayBeInherited, metadata: metadata)
        ParallelWork.forEach(packs.count, workers: options.workers) { p in
            guard !stop.isRaised else { return }
            let (pack, blobs) = packs[p]
            let outcome = Self.restorePack(pack, blobs: blobs, uses: uses_, files: files, repository: repository,
                                           creation: creation, stop: stop)
            outcomes.withLock { all in
                all.failed += outcome.failed
                all.finished += outcome.finished
                all.problems += outcome.problems
                all.written += outcome.written
                all.unwritable += outcome.unwritable
            }
        }
        let all = outcomes.withLock { $0 }
        for message in all.problems { record(message) }
        var damagedUses: [Int: Int] = [:]
        for (blob, reason) in all.failed.sorted(by: { $0.0 < $1.0 }) {
            let blobUses = uses[blob] ?? []
            for use in blobUses { damagedUses[Int(use.file), default: 0] += 1 }
            let files = Set(blobUses.map { PathBytes.display(plan[Int($0.file)].snapshotPath) }).sorted()
            result.damagedBlobs.append((blob, reason, files))
            warn("blob \(blob.short) \(reason) in the repository; affected: \(files.joined(separator: ", "))")
        }
        var written: [Int: Int] = [:]
        for file in all.written { written[Int(file), default: 0] += 1 }
        var targetFailure: [Int: FileSystem.Failure] = [:]
        for (file, error) in all.unwritable where targetFailure[Int(file)] == nil { targetFailure[Int(file)] = error }

        var content = ContentOutcome(finished: Set(all.finished))
        for (i, count) in planned {
            let done = written[i] ?? 0
            if done == count { continue }
            if done + (damagedUses[i] ?? 0) == count && targetFailure[i] == nil {
                if plan[i].isWholeBlob { content.damagedWhole.insert(i) }
                continue
            }
            content.unwritten.insert(i)
            // Listed in `result.unwritten`; told here unless the stop message stands for it.
            if let failure = targetFailure[i], !stopSignal.isRaised {
                warn("\(PathBytes.display(plan[i].snapshotPath)): cannot write to the target: \(failure) (file removed)")
            }
        }
        return content
    }

    /// How this restore creates files, for deciding which metadata calls are redundant.
    private struct Creation: Sendable {
        let umask: mode_t
        let groupMayBeInherited: Bool
        let metadata: MetadataWriter
    }

    /// Splits a pack's needed blobs (sorted by offset) into stretches read in one request
    /// each: a gap of more than 256 KiB of unneeded blobs, or 4 MiB read, starts a new one,
    /// so a batch that needs a few blobs of a pack does not read all of it, and memory per
    /// worker stays bounded.
    private static func stretches(_ blobs: [BlobLocation]) -> [[BlobLocation]] {
        var result: [[BlobLocation]] = []
        var current: [BlobLocation] = []
        for b in blobs.sorted(by: { $0.entry.offset < $1.entry.offset }) {
            if let first = current.first, let last = current.last {
                let gap = Int(b.entry.offset) - Int(last.entry.offset + last.entry.length)
                let span = Int(b.entry.offset + b.entry.length) - Int(first.entry.offset)
                if gap > 256 << 10 || span > 4 << 20 {
                    result.append(current)
                    current = []
                }
            }
            current.append(b)
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// Reads the needed span of one pack and writes its blobs; returns the blobs that
    /// failed in the repository, the uses written, the files that could not be written,
    /// the whole-blob files finished, and metadata problems. Returns early once `stop` is
    /// raised, by this worker or another.
    private static func restorePack(_ pack: PackID, blobs: [BlobLocation], uses: [BlobID: [BlobUse]], files: [FileTarget],
                                    repository: Repository, creation: Creation, stop: RestoreStopSignal) -> PackOutcome {
        var outcome = PackOutcome()
        guard let first = blobs.first, let last = blobs.last else { return outcome }
        let start = Int(first.entry.offset)
        let end = Int(last.entry.offset + last.entry.length)
        let span: [UInt8]
        do {
            span = try repository.backend.read(FileName(.data, pack.hex), range: start..<end)
        } catch {
            outcome.failed = blobs.map { ($0.entry.id, "could not be read from pack \(pack.short): \(error)") }
            return outcome
        }
        let decoder: BlobDecoder
        do {
            decoder = try BlobDecoder(keys: repository.keys)
        } catch {
            outcome.failed = blobs.map { ($0.entry.id, "\(error)") }
            return outcome
        }
        func unwritable(_ file: Int32, _ error: FileSystem.Failure) {
            outcome.unwritable.append((file, error))
            if RestoreStop.stops(error.code) { stop.raise(code: error.code, path: files[Int(file)].path) }
        }
        for b in blobs {
            if stop.isRaised { break }
            let from = Int(b.entry.offset) - start
            let plaintext: [UInt8]
            do {
                plaintext = try span.withUnsafeBytes {
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: $0[from..<from + Int(b.entry.length)]),
                                       entry: b.entry, pack: pack, salt: b.salt)
                }
            } catch {
                // Read the blob on its own: a mirror then tries its other replicas.
                guard let again = try? repository.loadBlob(b.entry.id, decoder: decoder) else {
                    outcome.failed.append((b.entry.id, "is damaged: \(error)"))
                    continue
                }
                plaintext = again
            }
            for use in uses[b.entry.id] ?? [] {
                let file = files[Int(use.file)]
                if file.isWholeBlob {
                    switch writeWhole(plaintext, to: file, creation: creation) {
                    case .success(let messages):
                        outcome.finished.append(Int(use.file))
                        outcome.written.append(use.file)
                        outcome.problems += messages
                    case .failure(let error):
                        unwritable(use.file, error)
                    }
                } else if let error = write(plaintext, to: file.path, at: use.offset) {
                    unwritable(use.file, error)
                } else {
                    outcome.written.append(use.file)
                }
            }
        }
        return outcome
    }

    /// Creates a one-chunk file, writes it, and sets its metadata, all on one descriptor.
    /// Returns the metadata problems (the content is written), or the write error; a file
    /// that could not be written is removed again.
    private static func writeWhole(_ data: [UInt8], to file: FileTarget, creation: Creation) -> Result<[String], FileSystem.Failure> {
        // Created with its final mode when the umask leaves it alone: no chmod afterwards.
        let mode = mode_t(file.node.mode)
        let modeIsFinal = mode & ~mode_t(0o777) == 0 && mode & creation.umask == 0
        return PathBytes.withCString(file.path) { path in
            let fd = createNew(path, mode: modeIsFinal ? mode : 0o600)
            guard fd >= 0 else { return .failure(FileSystem.Failure(code: errno)) }
            var failure: FileSystem.Failure?
            switch writeSkippingZeros(data, fd: fd, at: 0) {
            case .failure(let error): failure = error
            case .success(let end):
                if end < data.count && ftruncate(fd, off_t(data.count)) != 0 { failure = FileSystem.Failure(code: errno) }
            }
            if let failure {
                close(fd)
                unlink(path)
                return .failure(failure)
            }
            defer { close(fd) }
            let created = MetadataWriter.NewFile(modeIsFinal: modeIsFinal, ownerIsOurs: !creation.groupMayBeInherited)
            return .success(creation.metadata.apply(file.node, snapshotPath: file.snapshotPath, path: path, fd: fd, created: created))
        }
    }

    /// Writes `data` at `offset` of the file at `path` (already created at its full size).
    private static func write(_ data: [UInt8], to path: [UInt8], at offset: UInt64) -> FileSystem.Failure? {
        let fd = PathBytes.withCString(path) { open($0, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { return FileSystem.Failure(code: errno) }
        defer { close(fd) }
        if case .failure(let error) = writeSkippingZeros(data, fd: fd, at: offset) { return error }
        return nil
    }

    /// Writes `data` at `offset`, skipping 4 KiB runs of zeros so that they stay holes.
    /// Returns the end of the last byte written, relative to `offset`.
    private static func writeSkippingZeros(_ data: [UInt8], fd: Int32, at offset: UInt64) -> Result<Int, FileSystem.Failure> {
        data.withUnsafeBytes { all -> Result<Int, FileSystem.Failure> in
            let block = 4096
            func zeroBlock(at i: Int) -> Bool {
                isAllZero(UnsafeRawBufferPointer(rebasing: all[i..<min(i + block, all.count)]))
            }
            var i = 0
            var written = 0
            while i < all.count {
                while i < all.count && zeroBlock(at: i) { i += block }
                guard i < all.count else { break }
                var end = i
                while end < all.count && !zeroBlock(at: end) { end += block }
                end = min(end, all.count)
                var done = i
                while done < end {
                    let n = pwrite(fd, all.baseAddress! + done, end - done, off_t(offset) + off_t(done))  // non-empty range
                    if n < 0 {
                        if errno == EINTR { continue }
                        return .failure(FileSystem.Failure(code: errno))
                    }
                    done += n
                }
                written = end
                i = end
            }
            return .success(written)
        }
    }

    static func isAllZero(_ raw: UnsafeRawBufferPointer) -> Bool {
        let words = raw.count / 8
        var i = 0
        while i < words {
            if raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) != 0 { return false }
            i += 1
        }
        for j in (words * 8)..<raw.count where raw[j] != 0 { return false }
        return true
    }

    // MARK: Metadata

    /// Owners, extended attributes, modes and times of the batch's entries not finished
    /// with their content, except folders.
    private func applyMetadata(skipping finished: Set<Int>) {
        for (i, e) in plan.enumerated() where e.node.type != .directory && e.created && e.linkTo == nil && !finished.contains(i) {
            apply(e)
        }
    }

    /// Folders last and deepest first, so that writing into them does not change their
    /// times and read-only folders stay writable until the end.
    private func applyFolderMetadata() {
        for e in folders.reversed() { apply(e) }
    }

    private func apply(_ e: PlannedEntry) {
        let messages = PathBytes.withCString(e.target) { metadata.apply(e.node, snapshotPath: e.snapshotPath, path: $0, fd: nil) }
        for message in messages { record(message) }
    }
}
