import SnapCore
import SnapRepository
import SnapStorage

/// What `snap rewrite` did to one snapshot.
public struct RewrittenSnapshot: Sendable {
    public let original: SnapshotID
    /// The new snapshot's ID; `nil` in a dry run.
    public var replacement: SnapshotID?
    /// Entries left out (files and folders, each counted once, with what was below a folder).
    public var removedEntries = 0
    public var removedBytes: UInt64 = 0
    /// Whether the host name or time was changed (`--new-host`, `--new-time`).
    public var metadataChanged = false
}

/// Removes entries matching exclude patterns from snapshots (`snap rewrite`, as restic 0.17):
/// trees are rewritten bottom-up, new snapshots name the new root (with `original`), data
/// blobs stay for prune to judge. Write order as a backup's: new trees' packs, their index,
/// the new snapshots, and only then, with `forget`, the old snapshots are deleted. Runs
/// under a `backup` lock, taken before the index is read, so a prune waits for it before
/// deleting what the new trees use.
///
/// Packs that a prune condemned before the lock was taken (deletion marks) can be deleted
/// while the rewrite runs, so, as a backup, a new snapshot names no blob that only such a
/// pack holds: a new tree is never taken for stored because one holds it, and a blob the
/// new snapshot keeps from the old one (a subtree, a file's content) that one holds is
/// copied into a new pack. The old snapshot can hold such blobs when a backup that a
/// prune's mark waited for deduplicated against the pack; they are still read from there.
public final class SnapshotRewriter {
    private let repository: Repository
    private let excludes: PathFilter
    /// Recorded in each new snapshot's `excludes`.
    private let patterns: [String]
    private let hostname: String
    private let dryRun: Bool
    private var saver: BlobSaver?
    /// What the new trees keep out of packs named by deletion marks.
    private var copies: CondemnedPackCopies?
    private let walker: TreeWalker
    /// The host name every rewritten snapshot gets (restic's `--new-host`); `nil`: its own.
    public var newHost: String?
    /// The time every rewritten snapshot gets (restic's `--new-time`); `nil`: its own.
    public var newTime: Timestamp?

    /// - Parameter exclude: entries matching these (restic's `--exclude` rules, against
    ///   each entry's path in the snapshot) are removed, with everything below them.
    /// - Throws: `FilterPatternError` for a pattern that cannot be used.
    public init(repository: Repository, exclude: PatternRules, hostname: String, dryRun: Bool) throws(FilterPatternError) {
        self.repository = repository
        excludes = try PathFilter(exclude)
        patterns = (exclude.patterns + exclude.insensitivePatterns).filter { !$0.isEmpty }.map(\.description)
        self.hostname = hostname
        self.dryRun = dryRun
        walker = TreeWalker(repository: repository)
    }

    /// Case-sensitive patterns only.
    public convenience init(repository: Repository, excludes: [PatternText], hostname: String, dryRun: Bool) throws(FilterPatternError) {
        try self.init(repository: repository, exclude: PatternRules(patterns: excludes), hostname: hostname, dryRun: dryRun)
    }

    /// Patterns that matched no entry in the snapshots rewritten so far.
    public var unmatchedPatterns: [UnmatchedPattern] { excludes.unmatched }

    /// The tag a rewritten snapshot gets when its original is kept (not with `forget`).
    public static let tag = "rewrite"

    /// Rewrites each snapshot that has excluded entries; returns those it changed. Loads the
    /// index after taking the lock, as a backup does; blobs that only packs of deletion
    /// marks hold are read from there and copied (`CondemnedPackCopies`).
    ///
    /// - Parameter indexSkipped: told about each index file that cannot be read.
    public func rewrite(_ records: [SnapshotRecord], forget: Bool,
                        indexSkipped: (IndexID, Error) -> Void = { _, _ in }) throws -> [RewrittenSnapshot] {
        let locked = dryRun ? nil : try RepositoryLock.withListing(kind: .backup, repository: repository, hostname: hostname,
                                                                    listing: [.index, .snapshots])
        defer { locked?.lock.release() }
        // A dry run writes nothing, so it needs neither the lock nor the marks.
        let condemned = try locked?.scan.condemnedPacks(action: "rewrite not started") ?? []
        try repository.loadIndex(listed: locked.map { IndexID.all(in: $0.listing[.index]) }, skipped: indexSkipped)
        // Snapshots no longer stored when the lock was taken were forgotten or replaced (a
        // `tag`) since they were selected, and a prune may have condemned the packs only they
        // used: they are left out, and named in the error after the rest is done.
        var records = records
        var gone: Set<SnapshotID> = []
        if let locked {
            let stored = Set(locked.listing[.snapshots].compactMap { SnapshotID(hex: $0.file.name) })
            gone = Set(records.map(\.id).filter { !stored.contains($0) })
            records.removeAll { gone.contains($0.id) }
        }
        saver = dryRun ? nil : BlobSaver(repository: repository)
        copies = saver.map { CondemnedPackCopies(repository: repository, condemned: condemned, saver: $0) }
        var changed: [(RewrittenSnapshot, Snapshot)] = []
        for record in records {
            var result = RewrittenSnapshot(original: record.id)
            let root = try rewrite(tree: record.snapshot.tree, path: [], result: &result)
            var snapshot = record.snapshot
            if let newHost { snapshot.hostname = newHost }
            if let newTime, newTime != snapshot.timestamp {
                snapshot.time = RFC3339.format(newTime, utcOffset: RFC3339.localOffset(at: newTime.seconds))
            }
            result.metadataChanged = snapshot.hostname != record.snapshot.hostname || snapshot.time != record.snapshot.time
            guard root != record.snapshot.tree || result.metadataChanged else { continue }
            snapshot.tree = root
            snapshot.original = record.snapshot.original ?? record.id
            snapshot.excludes += patterns.filter { !snapshot.excludes.contains($0) }
            // As restic: the copy kept beside its original is told apart by a tag.
            if !forget && !snapshot.tags.contains(Self.tag) { snapshot.tags.append(Self.tag) }
            changed.append((result, snapshot))
        }
        guard let saver, let locked else { return changed.map(\.0) }
        _ = try saver.finish()  // packs, then their index, before any snapshot names them
        var results: [RewrittenSnapshot] = []
        var written: [ConcurrentReplacement.Replacement] = []
        for (rewritten, snapshot) in changed {
            // As a backup: if the lock may have looked dead meanwhile, the trees it reused must still be there.
            try SnapshotDependencies.verify(snapshot.tree, in: repository, lock: locked.lock, timing: LockTiming())
            var result = rewritten
            let id = try SnapshotStore.save(snapshot, in: repository)
            result.replacement = id
            results.append(result)
            written.append(.init(original: rewritten.original, line: snapshot.original ?? rewritten.original, new: id))
        }
        if forget {
            _ = try ConcurrentReplacement.complete(written, locked: locked, in: repository, command: "rewrite", gone: gone)
        } else if !gone.isEmpty {
            throw ConcurrentReplacement.error(gone, command: "rewrite")
        }
        return results
    }

    /// The tree without excluded entries: the same ID when nothing below is excluded.
    private func rewrite(tree id: BlobID, path: [UInt8], result: inout RewrittenSnapshot) throws -> BlobID {
        let tree = try walker.tree(id)
        var nodes: [Node] = []
        var changed = false
        for node in tree.nodes {
            let full = PathBytes.join(path.isEmpty ? [PathBytes.slash] : path, node.name)
            if excludes.matches(full) {
                changed = true
                try count(node, path: full, into: &result)
                continue
            }
            var kept = node
            if let subtree = node.subtree {
                let rewritten = try rewrite(tree: subtree, path: full, result: &result)
                if rewritten != subtree { kept.subtree = rewritten; changed = true }
            }
            nodes.append(kept)
        }
        // A new snapshot would name every blob named here (changed or not, this tree is
        // named by its parent's new tree unless nothing in the snapshot changes).
        if let copies {
            for node in nodes {
                if let subtree = node.subtree { try copies.keep(subtree, .tree) }
                for blob in node.content { try copies.keep(blob, .data) }
            }
        }
        guard changed else { return id }
        let rewritten = Tree(nodes: nodes)
        // A dry run has no saver: the new tree's ID, for the count, and nothing written.
        guard let copies else { return repository.keys.blobID(of: rewritten.encoded()) }
        return try copies.save(tree: rewritten)
    }

    private func count(_ node: Node, path: [UInt8], into result: inout RewrittenSnapshot) throws {
        result.removedEntries += 1
        if node.type == .file || node.type == .hardlink { result.removedBytes += node.size }
        guard let subtree = node.subtree else { return }
        try walker.walk(subtree) { _, below in
            result.removedEntries += 1
            if below.type == .file || below.type == .hardlink { result.removedBytes += below.size }
        }
    }
}
