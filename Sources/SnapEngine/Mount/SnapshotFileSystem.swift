import SnapCore
import SnapRepository
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Every snapshot of a repository as one read-only folder tree, independent of FUSE:
/// lookups, listings, link targets, extended attributes and reads of byte ranges by path.
/// `snap mount` puts a thin FUSE adapter over it; tests drive it directly.
///
/// Layout (docs/mount.md):
/// - `snapshots/TIME/…` one folder per snapshot, named by its time, and `latest`, a link;
/// - `ids/SHORTID/…`, `hosts/HOST/TIME/…`, `tags/TAG/TIME/…` (with their own `latest`);
/// - `at/TIME/GROUP/…`: for any RFC 3339 time or date (looked up, never listed), the newest
///   snapshot of each host and set of paths taken at or before it (`restore --at`'s rule).
///
/// Snapshots are listed again when the list is older than `Options.refreshInterval`, and at
/// once (at most every second) when a listing of their folders or a name not yet known asks
/// for them. Trees are read by whole packs and kept decoded up to a bound; file content is
/// read by whole blobs through a bounded cache, with the next blobs of a sequential reader
/// loaded ahead. A blob that cannot be read or does not authenticate fails the read with
/// `MountError.damaged` (and one warning per open file): never wrong bytes. Thread-safe.
public final class SnapshotFileSystem: Sendable {
    public struct Options: Sendable {
        public var filter = SnapshotFilter()
        /// strftime fields for snapshot folder names, formatted in UTC.
        public var timeTemplate = "%Y-%m-%dT%H:%M:%SZ"
        /// Plaintext bytes of file content kept in memory.
        public var blobCacheBytes = 256 << 20
        /// How far ahead of a sequential reader blobs are loaded, in bytes.
        public var readAheadBytes = 32 << 20
        /// Bytes of a pack read at once: a blob and the blobs after it (0: each blob alone).
        public var stretchBytes = 2 << 20
        /// Blobs loaded ahead at once.
        public var readAheadWorkers = 4
        /// Entries of decoded trees kept in memory.
        public var treeCacheEntries = 100_000
        /// Seconds after which the snapshot list is read again on any lookup.
        public var refreshInterval: Double = 30
        /// Seconds after which listing a folder of snapshots (`snapshots/`, `hosts/HOST/`…)
        /// or looking up an unknown snapshot name reads the list again.
        public var relistInterval: Double = 1
        /// The owner shown for the made-up folders.
        public var uid: UInt32 = 0
        public var gid: UInt32 = 0
        public init() {}
    }

    private let repository: Repository
    private let options: Options
    private let catalog: SnapshotCatalog
    private let trees: DecodedTreeCache
    private let blobs: BlobCache
    private let files = Mutex<(next: UInt64, open: [UInt64: MountedFile])>((1, [:]))
    private let warn: @Sendable (String) -> Void

    /// - Parameters:
    ///   - repository: opened; its index loaded after the first listing of snapshots
    ///     (`snapshotCount`), so that every snapshot listed has its index files.
    ///   - warn: receives one-line warnings (a damaged file, a snapshot that cannot be read).
    public init(repository: Repository, options: Options = Options(), warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.repository = repository
        self.options = options
        self.warn = warn
        catalog = SnapshotCatalog(repository: repository, filter: options.filter, template: options.timeTemplate, warn: warn)
        trees = DecodedTreeCache(repository: repository, maxNodes: options.treeCacheEntries)
        let stretches = PackStretches(repository: repository, stretchBytes: options.stretchBytes)
        blobs = BlobCache(capacity: options.blobCacheBytes, workers: options.readAheadWorkers,
                          plan: { stretches.plan($0) }, load: { stretches.load($0) })
    }

    /// Reads of data from the repository so far (a blob, or a stretch of blobs, each).
    public var blobLoads: Int { blobs.loads }
    /// How many trees were decoded (for tests).
    public var treeLoads: Int { trees.loads }

    /// The bytes of all packs the repository's index lists: what the snapshots take where
    /// they are stored (`df` on the mount shows it as used space).
    public var storedBytes: Int { repository.index.packs.reduce(0) { $0 + $1.size } }

    /// The number of snapshots shown now (listing them first if the list is stale).
    public var snapshotCount: Int { catalog.listing(maxAge: options.refreshInterval).records.count }

    // MARK: - Requests

    /// The attributes of the entry at `path` (absolute, raw bytes, as FUSE gives it).
    public func attributes(_ path: [UInt8]) throws -> MountAttributes {
        try attributes(of: resolve(path), path: path)
    }

    /// The entries of the folder at `path`, in name order, without `.` and `..`.
    public func list(_ path: [UInt8]) throws -> [MountDirectoryEntry] {
        let place = try resolve(path, listing: true)
        switch place {
        case .root:
            let names = ["at", "hosts", "ids", "snapshots", "tags"]
            let listing = catalog.listing(maxAge: options.refreshInterval)
            return names.map { MountDirectoryEntry(name: Array($0.utf8), attributes: folder(path + [PathBytes.slash] + Array($0.utf8), listing)) }
        case let .snapshots(listing, scope):
            var entries = scope.map { i in
                MountDirectoryEntry(name: Array(listing.names[i].utf8), attributes: snapshotRoot(listing.records[i]))
            }
            if let last = scope.last {
                entries.append(MountDirectoryEntry(name: Array("latest".utf8), attributes: link(Array(listing.names[last].utf8), path + Array("/latest".utf8), listing)))
            }
            return entries.sorted { $0.name.lexicographicallyPrecedes($1.name) }
        case let .names(listing, kind):
            let names: [String]
            switch kind {
            case .hosts: names = Array(listing.hosts.keys)
            case .tags: names = Array(listing.tags.keys)
            case .ids: names = Array(listing.byShortID.keys)
            case .at: names = []
            }
            return names.sorted().map { name in
                let child = path + [PathBytes.slash] + Array(name.utf8)
                let attributes = kind == .ids ? listing.byShortID[name].map { snapshotRoot(listing.records[$0]) } ?? folder(child, listing) : folder(child, listing)
                return MountDirectoryEntry(name: Array(name.utf8), attributes: attributes)
            }
        case let .pointInTime(listing, groups):
            return groups.map { MountDirectoryEntry(name: Array($0.name.utf8), attributes: snapshotRoot(listing.records[$0.record])) }
        case let .inside(record, node, inner):
            guard node?.type ?? .directory == .directory else { throw MountError.notDirectory(path: PathBytes.display(path)) }
            let tree = try load(node?.subtree ?? record.snapshot.tree, path)
            return tree.nodes.map { child in
                MountDirectoryEntry(name: child.name, attributes: attributes(child, record: record, path: PathBytes.join(inner.isEmpty ? [PathBytes.slash] : inner, child.name)))
            }
        case .link:
            throw MountError.notDirectory(path: PathBytes.display(path))
        }
    }

    /// The target of the symbolic link at `path`.
    public func linkTarget(_ path: [UInt8]) throws -> [UInt8] {
        switch try resolve(path) {
        case let .link(target, _): return target
        // A target holding a NUL byte (possible in an imported tree) cannot be given whole:
        // cut at the NUL it would name something else, so the link reads as invalid.
        case let .inside(_, node?, _) where node.type == .symlink && node.linkTarget.contains(0):
            throw MountError.damaged(path: PathBytes.display(path), reason: "its link target holds a NUL byte")
        case let .inside(_, node?, _) where node.type == .symlink: return node.linkTarget
        default: throw MountError.wrongType(path: PathBytes.display(path))
        }
    }

    /// The extended attributes stored with the entry at `path` (none for made-up folders).
    public func extendedAttributes(_ path: [UInt8]) throws -> [ExtendedAttribute] {
        if case let .inside(_, node?, _) = try resolve(path) { return node.xattrs }
        return []
    }

    /// Opens the file at `path` for reading; returns a handle for `read` and `close`.
    public func open(_ path: [UInt8]) throws -> UInt64 {
        guard case let .inside(_, node?, _) = try resolve(path) else { throw MountError.isDirectory(path: PathBytes.display(path)) }
        switch node.type {
        case .file, .hardlink: break
        case .directory: throw MountError.isDirectory(path: PathBytes.display(path))
        default: throw MountError.wrongType(path: PathBytes.display(path))
        }
        let file = MountedFile(path: PathBytes.display(path), node: node, index: repository.index)
        return files.withLock { f in
            let handle = f.next
            f.next += 1
            f.open[handle] = file
            return handle
        }
    }

    /// Closes a handle from `open`.
    public func close(_ handle: UInt64) {
        _ = files.withLock { $0.open.removeValue(forKey: handle) }
    }

    /// Reads up to `buffer.count` bytes at `offset` of the open file; returns how many (0 at
    /// the end). Blobs after the range are loaded ahead when the reads are sequential.
    ///
    /// - Throws: `MountError.damaged` when a blob is missing, cannot be read, or does not
    ///   authenticate (or the file's blobs do not add up to its size); `MountError.badHandle`.
    public func read(_ handle: UInt64, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let file = files.withLock({ $0.open[handle] }) else { throw MountError.badHandle }
        do {
            return try read(file, at: offset, into: buffer)
        } catch let error as MountError {
            if file.shouldWarn() { warn("\(error)") }
            throw error
        }
    }

    private func read(_ file: MountedFile, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let problem = file.problem { throw MountError.damaged(path: file.path, reason: problem) }
        guard offset < file.size, buffer.count > 0, let base = buffer.baseAddress else { return 0 }
        let end = min(file.size, offset + UInt64(buffer.count))
        let first = file.blob(containing: offset), last = file.blob(containing: end - 1)
        // Ahead by at most a quarter of the cache, so that blobs loaded ahead stay until used.
        let window = UInt64(min(options.readAheadBytes, options.blobCacheBytes / 4))
        if file.noteRead(offset..<end) && window > 0 && last + 1 < file.ids.count {
            var ahead = last + 1
            let limit = file.starts[last + 1] + window
            while ahead < file.ids.count && file.starts[ahead + 1] <= limit { ahead += 1 }
            blobs.readAhead(file.ids[(last + 1)..<max(ahead, last + 2)])
        }
        var position = offset, written = 0
        for i in first...last {
            let bytes: [UInt8]
            do {
                bytes = try blobs.blob(file.ids[i])
            } catch {
                throw MountError.damaged(path: file.path, reason: "blob \(file.ids[i].short): \(error)")
            }
            let blobStart = file.starts[i], blobEnd = file.starts[i + 1]
            guard UInt64(bytes.count) == blobEnd - blobStart else {
                throw MountError.damaged(path: file.path, reason: "blob \(file.ids[i].short) is \(bytes.count) bytes, the index says \(blobEnd - blobStart)")
            }
            let from = Int(position - blobStart), count = Int(min(blobEnd, end) - position)
            bytes.withUnsafeBytes { source in
                if count > 0, let start = source.baseAddress { (base + written).copyMemory(from: start + from, byteCount: count) }
            }
            written += count
            position += UInt64(count)
        }
        return written
    }

    // MARK: - Resolving paths

    private enum NameKind { case hosts, tags, ids, at }

    private enum Place {
        case root
        /// `snapshots/`, `hosts/HOST/`, `tags/TAG/`: these records (numbers in the listing).
        case snapshots(SnapshotListing, [Int])
        case names(SnapshotListing, NameKind)
        case pointInTime(SnapshotListing, [(name: String, record: Int)])
        case link([UInt8], SnapshotListing)
        /// In a snapshot: the node (`nil` for its root) and its snapshot path (empty for the root).
        case inside(SnapshotRecord, Node?, [UInt8])
    }

    /// A name that would be a snapshot (or host, tag, time) if the list were fresher.
    private struct Unlisted: Error {}

    /// Finds what `path` names. When a snapshot-level name is unknown, lists the snapshots
    /// again (if the list is over a second old) and tries once more; `listing` asks for a
    /// list at most a second old for the made-up folders that list snapshots.
    private func resolve(_ path: [UInt8], listing wantsFresh: Bool = false) throws -> Place {
        let components = PathBytes.components(path)
        let fresh = wantsFresh && components.count <= 2 && components.first.map { $0 != Array("at".utf8) } ?? false
        let listing = catalog.listing(maxAge: fresh ? options.relistInterval : options.refreshInterval)
        do {
            return try resolve(components, path, listing)
        } catch is Unlisted {
            do {
                return try resolve(components, path, catalog.listing(maxAge: options.relistInterval))
            } catch is Unlisted {
                throw MountError.notFound(path: PathBytes.display(path))
            }
        }
    }

    private func resolve(_ c: [[UInt8]], _ path: [UInt8], _ listing: SnapshotListing) throws -> Place {
        guard let top = c.first else { return .root }
        let name = { (i: Int) in String(decoding: c[i], as: UTF8.self) }
        func inScope(_ scope: [Int], from i: Int) throws -> Place {
            guard c.count > i else { return .snapshots(listing, scope) }
            if name(i) == "latest", let last = scope.last {
                guard c.count == i + 1 else { throw MountError.notDirectory(path: PathBytes.display(path)) }
                return .link(Array(listing.names[last].utf8), listing)
            }
            guard let n = listing.byName[name(i)], scope.contains(n) else { throw Unlisted() }
            return try inside(listing.records[n], c[(i + 1)...], path)
        }
        switch name(0) {
        case "snapshots":
            return try inScope(Array(listing.records.indices), from: 1)
        case "hosts", "tags":
            let table = name(0) == "hosts" ? listing.hosts : listing.tags
            guard c.count > 1 else { return .names(listing, name(0) == "hosts" ? .hosts : .tags) }
            guard let scope = table[name(1)] else { throw Unlisted() }
            return try inScope(scope, from: 2)
        case "ids":
            guard c.count > 1 else { return .names(listing, .ids) }
            guard let n = listing.byShortID[name(1)] else { throw Unlisted() }
            return try inside(listing.records[n], c[2...], path)
        case "at":
            guard c.count > 1 else { return .names(listing, .at) }
            guard let time = RFC3339.parse(name(1)) else { throw MountError.notFound(path: PathBytes.display(path)) }
            let groups = listing.pointInTime(time)
            guard !groups.isEmpty else { throw Unlisted() }
            guard c.count > 2 else { return .pointInTime(listing, groups) }
            guard let group = groups.first(where: { $0.name == name(2) }) else { throw Unlisted() }
            return try inside(listing.records[group.record], c[3...], path)
        default:
            _ = top
            throw MountError.notFound(path: PathBytes.display(path))
        }
    }

    /// The node at `components` below the snapshot's root.
    private func inside(_ record: SnapshotRecord, _ components: ArraySlice<[UInt8]>, _ path: [UInt8]) throws -> Place {
        var tree = record.snapshot.tree
        var inner: [UInt8] = []
        var node: Node?
        for (i, name) in components.enumerated() {
            guard let found = try load(tree, path).node(named: name) else { throw MountError.notFound(path: PathBytes.display(path)) }
            inner = PathBytes.join(inner.isEmpty ? [PathBytes.slash] : inner, name)
            node = found
            if i < components.count - 1 {
                guard found.type == .directory, let subtree = found.subtree else { throw MountError.notDirectory(path: PathBytes.display(path)) }
                tree = subtree
            }
        }
        return .inside(record, node, inner)
    }

    private func load(_ tree: BlobID, _ path: [UInt8]) throws -> Tree {
        do {
            return try trees.tree(tree)
        } catch {
            let problem = MountError.damaged(path: PathBytes.display(path), reason: "tree \(tree.short): \(error)")
            warn("\(problem)")
            throw problem
        }
    }

    // MARK: - Attributes

    private func attributes(of place: Place, path: [UInt8]) throws -> MountAttributes {
        switch place {
        case .root: return folder(path, catalog.listing(maxAge: options.refreshInterval))
        case let .snapshots(listing, _), let .names(listing, _), let .pointInTime(listing, _): return folder(path, listing)
        case let .link(target, listing): return link(target, path, listing)
        case let .inside(record, node?, inner): return attributes(node, record: record, path: inner)
        case let .inside(record, nil, _): return snapshotRoot(record)
        }
    }

    /// A made-up folder: read-only, owned by the mounting user, as new as the newest snapshot.
    private func folder(_ path: [UInt8], _ listing: SnapshotListing) -> MountAttributes {
        var hash = InodeHash()
        hash.add(Array("folder:".utf8) + path)
        return MountAttributes(type: .directory, mode: 0o555, uid: options.uid, gid: options.gid,
                               mtime: listing.newest, ctime: listing.newest, links: 2, inode: hash.inode)
    }

    private func link(_ target: [UInt8], _ path: [UInt8], _ listing: SnapshotListing) -> MountAttributes {
        var hash = InodeHash()
        hash.add(Array("link:".utf8) + path)
        return MountAttributes(type: .symlink, mode: 0o777, uid: options.uid, gid: options.gid, size: UInt64(target.count),
                               mtime: listing.newest, ctime: listing.newest, inode: hash.inode)
    }

    /// A snapshot's root folder: owned by the user who took it, as old as the snapshot.
    private func snapshotRoot(_ record: SnapshotRecord) -> MountAttributes {
        var hash = InodeHash()
        hash.add(record.id.raw.bytes)
        let time = record.snapshot.timestamp
        return MountAttributes(type: .directory, mode: 0o755, uid: record.snapshot.uid, gid: record.snapshot.gid,
                               mtime: time, ctime: time, links: 2, inode: hash.inode)
    }

    /// An entry's stored metadata. Names of one hard-linked file share an inode number
    /// (from its device and inode at backup), so `tar`, `du` and `find -samefile` see one
    /// file; other entries get one from their snapshot and path.
    private func attributes(_ node: Node, record: SnapshotRecord, path: [UInt8]) -> MountAttributes {
        var hash = InodeHash()
        hash.add(record.id.raw.bytes)
        let isFile = node.type == .file || node.type == .hardlink
        if isFile && node.links > 1 {
            hash.add(node.device)
            hash.add(node.inode)
        } else {
            hash.add(path)
        }
        let size: UInt64 = isFile ? node.size : node.type == .symlink ? UInt64(node.linkTarget.count) : 0
        return MountAttributes(type: node.type == .hardlink ? .file : node.type, mode: node.mode, uid: node.uid, gid: node.gid,
                               size: size, mtime: node.mtime, ctime: node.ctime, links: max(node.links, 1), rdev: node.rdev,
                               inode: hash.inode)
    }
}
