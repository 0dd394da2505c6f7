import Glibc
import SnapCore
import SnapRepository

/// restic's `recover`: a new snapshot of the folders the repository still stores but no
/// snapshot reaches, as after a `forget` by mistake and before the prune that would delete
/// them. A prune that has condemned their packs only waits out its safety delay, so this is
/// the way back in the meantime.
///
/// Every tree blob in the index that no snapshot reaches is read; those that no other such
/// tree names as a subfolder are the tops of the lost folders ("roots"). The new snapshot
/// holds one folder `/recover`, with one folder per root named by the root's short ID (the
/// whole ID where two short ones would clash), under which the lost tree is as it was.
/// Its path is `/recover`, as restic's; `restore ID:/recover/NAME` brings one back.
public struct DanglingTreeRecovery {
    /// What a recovery found and did.
    public struct Result: Sendable {
        /// The trees no snapshot reaches.
        public var danglingTrees = 0
        /// Those that no other dangling tree names: each becomes a folder of the snapshot.
        public var roots: [BlobID] = []
        /// Trees that could not be read, with why; they are left out (with what only they name).
        public var unreadable: [(tree: BlobID, reason: String)] = []
        /// The new snapshot, or `nil` (nothing to recover, or a dry run).
        public var snapshot: SnapshotID?
        /// Blobs copied out of packs that deletion marks condemn, so that the new snapshot
        /// does not depend on them.
        public var copiedFromCondemnedPacks = 0
        /// Other backups (or imports, rewrites) running when the lock was taken: the folders
        /// they have stored but not yet named in a snapshot look lost too, and are included.
        public var otherWriters = 0
    }

    private let repository: Repository
    private let hostname: String
    private let username: String

    public init(repository: Repository, hostname: String, username: String) {
        self.repository = repository
        self.hostname = hostname
        self.username = username
    }

    /// Finds the dangling roots and, unless `dryRun`, saves the snapshot holding them.
    ///
    /// Holds a backup's lock (not in a dry run) from before the index is loaded until the
    /// snapshot is saved: a prune that starts meanwhile keeps every pack the new snapshot
    /// needs, and blobs that only packs of earlier deletion marks hold are copied into new
    /// packs first (`CondemnedPackCopies`), as `rewrite` does.
    /// - Parameter report: told about snapshots and trees that cannot be read.
    public func run(dryRun: Bool, report: (String) -> Void) throws -> Result {
        let locked = dryRun ? nil : try RepositoryLock.withListing(kind: .backup, repository: repository, hostname: hostname,
                                                                    listing: [.index, .snapshots])
        defer { locked?.lock.release() }
        let condemned = try locked?.scan.condemnedPacks(action: "recover not started") ?? []
        try repository.loadIndex(listed: locked.map { IndexID.all(in: $0.listing[.index]) }) { id, error in
            report("index \(id.short) skipped: \(error)")
        }
        let snapshots = try SnapshotStore.all(in: repository, listed: locked?.listing[.snapshots]) { id, error in
            report("snapshot \(id.short) cannot be read, so the trees only it reaches count as lost: \(error)")
        }
        let walker = TreeWalker(repository: repository)
        let reached = reachedTrees(from: snapshots.map(\.snapshot.tree), walker: walker)

        var result = Result()
        if let locked {
            let timing = LockTiming()
            result.otherWriters = locked.scan.files.filter { file in
                file.record.kind == .backup && !(file.record.hostname == hostname && file.record.pid == getpidValue())
                    && timing.isAlive(file, now: locked.lock.storageNow, measured: locked.lock.clockOffset != nil, localHost: hostname)
            }.count
        }
        var dangling: [BlobID] = []
        repository.index.forEachEntry { entry in
            if entry.type == .tree && !reached.contains(entry.id) { dangling.append(entry.id) }
        }
        dangling.sort()
        result.danglingTrees = dangling.count
        var named: Set<BlobID> = []
        var unreadable: Set<BlobID> = []
        for id in dangling {
            do {
                for node in try walker.tree(id).nodes { if let subtree = node.subtree { named.insert(subtree) } }
            } catch {
                unreadable.insert(id)
                result.unreadable.append((id, "\(error)"))
                report("tree \(id.short) cannot be read, so it is left out: \(error)")
            }
        }
        result.roots = dangling.filter { !named.contains($0) && !unreadable.contains($0) }
        guard !result.roots.isEmpty, let locked else { return result }

        let saver = BlobSaver(repository: repository)
        let copies = CondemnedPackCopies(repository: repository, condemned: condemned, saver: saver)
        for root in result.roots { try copies.keepAll(below: root, except: { unreadable.contains($0) }) }
        result.copiedFromCondemnedPacks = copies.copied
        let now = WallClock.now
        let folders = Self.folders(for: result.roots, time: now)
        let recoverTree = try copies.save(tree: Tree(nodes: folders))
        let top = try copies.save(tree: Tree(nodes: [Self.folder(named: Array("recover".utf8), subtree: recoverTree, time: now)]))
        _ = try saver.finish()  // packs, then their index, before the snapshot names them
        try SnapshotDependencies.verify(top, in: repository, lock: locked.lock, timing: LockTiming())
        let snapshot = Snapshot(time: RFC3339.format(now, utcOffset: RFC3339.localOffset(at: now.seconds)),
                                hostname: hostname, username: username, uid: getuid(), gid: getgid(),
                                paths: ["/recover"], tags: [], excludes: [], parent: nil, tree: top,
                                summary: nil, programVersion: snapVersion)
        result.snapshot = try SnapshotStore.save(snapshot, in: repository)
        return result
    }

    /// Every tree the snapshots reach. A tree that cannot be read is counted as reached
    /// (its subfolders are not), so that it is not offered as lost.
    private func reachedTrees(from roots: [BlobID], walker: TreeWalker) -> Set<BlobID> {
        var reached: Set<BlobID> = []
        var pending = roots
        while let id = pending.popLast() {
            guard reached.insert(id).inserted, let tree = try? walker.tree(id) else { continue }
            for node in tree.nodes { if let subtree = node.subtree { pending.append(subtree) } }
        }
        return reached
    }

    /// One folder per root, named by its short ID, or by its whole ID where short IDs clash.
    static func folders(for roots: [BlobID], time: Timestamp) -> [Node] {
        var shortCount: [String: Int] = [:]
        for root in roots { shortCount[root.short, default: 0] += 1 }
        return roots.map { root in
            let name = shortCount[root.short] == 1 ? root.short : root.hex
            return folder(named: Array(name.utf8), subtree: root, time: time)
        }
    }

    private static func folder(named name: [UInt8], subtree: BlobID, time: Timestamp) -> Node {
        Node(name: name, type: .directory, mode: 0o755, uid: getuid(), gid: getgid(), mtime: time, ctime: time, subtree: subtree)
    }

}
