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
public struct RestoreResult: Sendable {
    public var files = 0
    public var directories = 0
    public var otherEntries = 0
    public var bytes: UInt64 = 0
    /// Problems with single entries (each names its path); the rest was restored.
    public var errors: [String] = []
    /// Blobs that were missing or failed authentication, with the snapshot paths of the files they belong to.
    public var damagedBlobs: [(blob: BlobID, reason: String, files: [String])] = []

    public var succeeded: Bool { errors.isEmpty && damagedBlobs.isEmpty }
}

/// Restores a snapshot's tree into a target folder.
///
/// The tree is restored in batches of `RestoreOptions.batchSize` entries in walk order, so memory does
/// not grow with the tree (with `includes`, whose selection is only known once a folder
/// has been walked, the whole plan is made first). Within a batch, content is written
/// pack by pack: each needed stretch of a pack is read once, by one of `workers` threads,
/// and every blob is authenticated before it is written with `pwrite`. All-zero blocks
/// are not written, so sparse files stay sparse. Folders get their metadata last.
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

    /// Restores everything selected. Per-entry failures are collected in the result, not thrown.
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
        applyFolderMetadata()
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
                        record("\(PathBytes.display(path)): cannot read folder contents: \(error)")
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
        let finished = writeContent()
        createDeferred(finished)
        applyMetadata(skipping: finished)
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

    private func record(_ message: String) {
        result.errors.append(message)
        warn(message)
    }

    private func createEntries() {
        for i in plan.indices {
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

    /// Whole-blob files whose chunk could not be restored (created empty at their size, as
    /// the others were), then further names of hard-linked files.
    private func createDeferred(_ finished: Set<Int>) {
        for (i, e) in plan.enumerated() where e.created && e.isWholeBlob && !finished.contains(i) {
            let failed = PathBytes.withCString(e.target) { Self.createSized($0, size: e.node.size) }
            if let failed { record("\(PathBytes.display(e.snapshotPath)): cannot create: \(String(cString: strerror(failed)))") }
        }
        for e in plan where e.created {
            guard let first = e.linkTo else { continue }
            let failed: Int32? = PathBytes.withCString(e.target) { path in
                unlink(path)
                return PathBytes.withCString(first) { link($0, path) } == 0 ? nil : errno
            }
            if let failed { record("\(PathBytes.display(e.snapshotPath)): cannot create: \(String(cString: strerror(failed)))") }
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

    /// Writes every needed blob, pack by pack on `workers` threads; returns the plan
    /// indices of the whole-blob files that were written and given their metadata.
    private func writeContent() -> Set<Int> {
        var uses: [BlobID: [BlobUse]] = [:]
        var byPack: [PackID: [BlobLocation]] = [:]
        var missing: [BlobID] = []
        for (i, e) in plan.enumerated() where e.created && e.linkTo == nil && (e.node.type == .file || e.node.type == .hardlink) {
            var offset: UInt64 = 0
            for id in e.node.content {
                let location = repository.index.lookup(id)
                if uses[id] == nil {
                    if let location { byPack[location.pack, default: []].append(location) } else { missing.append(id) }
                }
                uses[id, default: []].append(BlobUse(file: Int32(i), offset: offset))
                // Without an index entry the chunk's length is unknown, so later chunks
                // cannot be placed: the file is reported damaged from here on.
                guard let length = location?.entry.rawLength else { break }
                offset += UInt64(length)
            }
        }
        let packs = byPack.flatMap { pack, blobs in Self.stretches(blobs).map { (pack, $0) } }
        let files = plan.map { FileTarget(path: $0.target, snapshotPath: $0.snapshotPath, node: $0.node, isWholeBlob: $0.isWholeBlob) }
        let failures = Mutex<[(BlobID, String)]>(missing.map { ($0, "not in any index") })
        let finished = Mutex<Set<Int>>([])
        let problems = Mutex<[String]>([])
        let uses_ = uses
        let repository = self.repository
        let creation = Creation(umask: umaskBits, groupMayBeInherited: groupMayBeInherited, metadata: metadata)
        ParallelWork.forEach(packs.count, workers: options.workers) { p in
            let (pack, blobs) = packs[p]
            let outcome = Self.restorePack(pack, blobs: blobs, uses: uses_, files: files, repository: repository, creation: creation)
            if !outcome.failed.isEmpty { failures.withLock { $0 += outcome.failed } }
            if !outcome.finished.isEmpty { finished.withLock { $0.formUnion(outcome.finished) } }
            if !outcome.problems.isEmpty { problems.withLock { $0 += outcome.problems } }
        }
        for message in problems.withLock({ $0 }) { record(message) }
        for (blob, reason) in failures.withLock({ $0 }).sorted(by: { $0.0 < $1.0 }) {
            let files = Set((uses[blob] ?? []).map { PathBytes.display(plan[Int($0.file)].snapshotPath) }).sorted()
            result.damagedBlobs.append((blob, reason, files))
            warn("blob \(blob.short) \(reason); affected: \(files.joined(separator: ", "))")
        }
        return finished.withLock { $0 }
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
    /// failed, the whole-blob files finished, and metadata problems.
    private static func restorePack(_ pack: PackID, blobs: [BlobLocation], uses: [BlobID: [BlobUse]], files: [FileTarget],
                                    repository: Repository, creation: Creation)
        -> (failed: [(BlobID, String)], finished: [Int], problems: [String]) {
        guard let first = blobs.first, let last = blobs.last else { return ([], [], []) }
        let start = Int(first.entry.offset)
        let end = Int(last.entry.offset + last.entry.length)
        let span: [UInt8]
        do {
            span = try repository.backend.read(FileName(.data, pack.hex), range: start..<end)
        } catch {
            return (blobs.map { ($0.entry.id, "could not be read from pack \(pack.short): \(error)") }, [], [])
        }
        var failed: [(BlobID, String)] = []
        var finished: [Int] = []
        var problems: [String] = []
        let decoder: BlobDecoder
        do { decoder = try BlobDecoder(keys: repository.keys) } catch { return (blobs.map { ($0.entry.id, "\(error)") }, [], []) }
        for b in blobs {
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
                    failed.append((b.entry.id, "is damaged: \(error)"))
                    continue
                }
                plaintext = again
            }
            for use in uses[b.entry.id] ?? [] {
                let file = files[Int(use.file)]
                if file.isWholeBlob {
                    switch writeWhole(plaintext, to: file, creation: creation) {
                    case .success(let messages):
                        finished.append(Int(use.file))
                        problems += messages
                    case .failure(let error):
                        failed.append((b.entry.id, "could not be written: \(error)"))
                    }
                } else if let error = write(plaintext, to: file.path, at: use.offset) {
                    failed.append((b.entry.id, "could not be written: \(error)"))
                }
            }
        }
        return (failed, finished, problems)
    }

    /// Creates a one-chunk file, writes it, and sets its metadata, all on one descriptor.
    /// Returns the metadata problems (the content is written), or the write error.
    private static func writeWhole(_ data: [UInt8], to file: FileTarget, creation: Creation) -> Result<[String], FileSystem.Failure> {
        // Created with its final mode when the umask leaves it alone: no chmod afterwards.
        let mode = mode_t(file.node.mode)
        let modeIsFinal = mode & ~mode_t(0o777) == 0 && mode & creation.umask == 0
        return PathBytes.withCString(file.path) { path in
            let fd = createNew(path, mode: modeIsFinal ? mode : 0o600)
            guard fd >= 0 else { return .failure(FileSystem.Failure(code: errno)) }
            defer { close(fd) }
            switch writeSkippingZeros(data, fd: fd, at: 0) {
            case .failure(let error): return .failure(error)
            case .success(let end):
                if end < data.count && ftruncate(fd, off_t(data.count)) != 0 { return .failure(FileSystem.Failure(code: errno)) }
            }
            let created = MetadataWriter.NewFile(modeIsFinal: modeIsFinal, ownerIsOurs: !creation.groupMayBeInherited)
            return .success(creation.metadata.apply(file.node, snapshotPath: file.snapshotPath, path: path, fd: fd, created: created))
        }
    }

    /// Writes `data` at `offset` of the file at `path` (already created at its full size).
    private static func write(_ data: [UInt8], to path: [UInt8], at offset: UInt64) -> String? {
        let fd = PathBytes.withCString(path) { open($0, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        if case .failure(let error) = writeSkippingZeros(data, fd: fd, at: offset) { return error.description }
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
