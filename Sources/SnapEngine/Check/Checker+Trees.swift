import SnapCore
import SnapRepository
import SnapStorage

extension Checker {
    /// Loads every tree reachable from every snapshot once, and checks that each blob it
    /// names is indexed with the right type.
    ///
    /// The trees are walked a level at a time: the subtrees a level names are the next
    /// level. Its trees are taken in pack order, in runs whose packs fit the loader's cache
    /// (`packRuns`): a run's packs are read whole, several at once (`TreeLoader.prefetch`),
    /// and its trees checked, before the next run is read. A walk costs about one request
    /// per pack of trees and level.
    func checkTrees() {
        progress.start(.trees)
        let loader = TreeLoader(repository: repository, options: treeLoaderOptions)
        var level: [BlobID] = []
        for record in snapshots where usable(record.snapshot.tree, as: .tree) {
            if checkedTrees.insert(record.snapshot.tree) { level.append(record.snapshot.tree) }
        }
        while !level.isEmpty {
            var next: [BlobID] = []
            for start in stride(from: 0, to: level.count, by: Self.treesPerSort) {
                for run in packRuns(level[start..<min(level.count, start + Self.treesPerSort)], fitting: treeLoaderOptions.cacheBytes) {
                    loader.prefetch(run)
                    for id in run {
                        guard let tree = loadTree(id, from: loader) else { continue }
                        countTree()
                        for node in tree.nodes {
                            countContent(node.content.count)
                            for blob in node.content { _ = usable(blob, as: .data) }
                            if let subtree = node.subtree, !checkedTrees.contains(subtree), usable(subtree, as: .tree) {
                                checkedTrees.insert(subtree)
                                next.append(subtree)
                            }
                        }
                    }
                }
            }
            level = next
        }
        markNeededUnindexedPacks()
    }

    /// Trees of a level sorted into pack order at once (about 70 bytes each while sorted).
    static let treesPerSort = 65_536

    /// `ids` in pack order (by pack, then place in it), cut into runs whose packs together
    /// fit `bytes`, each at least one pack; trees the index does not place come last, in a
    /// run of their own. In level order, trees of packs written side by side alternate, and
    /// a loader whose cache could not hold every pack of the level dropped packs it was
    /// about to use: a check of a million-file repository read 300 packs (4.4 GiB) instead
    /// of 28, one run in three.
    func packRuns(_ ids: ArraySlice<BlobID>, fitting bytes: Int) -> [[BlobID]] {
        var placed: [(pack: PackID, offset: UInt32, id: BlobID)] = []
        var unplaced: [BlobID] = []
        placed.reserveCapacity(ids.count)
        for id in ids {
            if let location = repository.index.lookup(id) {
                placed.append((location.pack, location.entry.offset, id))
            } else {
                unplaced.append(id)
            }
        }
        placed.sort { $0.pack != $1.pack ? $0.pack < $1.pack : $0.offset < $1.offset }
        var runs: [[BlobID]] = []
        var run: [BlobID] = []
        var runBytes = 0
        var start = 0
        while start < placed.count {
            let pack = placed[start].pack
            var end = start + 1
            while end < placed.count && placed[end].pack == pack { end += 1 }
            let size = repository.index.packSize(pack) ?? Repository.largestTreePackReadWhole
            if !run.isEmpty && runBytes + size > bytes {
                runs.append(run)
                run = []
                runBytes = 0
            }
            runBytes += size
            run += placed[start..<end].map(\.id)
            start = end
        }
        if !run.isEmpty { runs.append(run) }
        if !unplaced.isEmpty { runs.append(unplaced) }
        return runs
    }

    /// Whether a referenced blob can be read; records the problem when it cannot.
    private func usable(_ id: BlobID, as type: BlobType) -> Bool {
        if let known = damage[id] { return known.problem == .unindexed }
        guard let location = repository.index.lookup(id) else {
            if let pack = lostWithPack[id] ?? repository.index.removedPack(of: id) {
                record(id, type, .packMissing, pack: pack, "its pack \(pack.short) is missing")
            } else {
                record(id, type, .missing, pack: nil, "no index names it and no pack holds it")
            }
            return false
        }
        guard location.entry.type == type else {
            record(id, type, .wrongType, pack: location.pack,
                   "referenced as a \(type) blob, but the index names it as a \(location.entry.type) blob")
            return false
        }
        if unindexed[location.pack] != nil {
            neededUnindexed.insert(location.pack)
            record(id, type, .unindexed, pack: location.pack,
                   "no index names it; pack \(location.pack.short), which no index names, holds it (run 'snap repair index')")
        }
        return true
    }

    /// Loads and decodes a tree; records the damage and returns `nil` when that fails.
    private func loadTree(_ id: BlobID, from loader: TreeLoader) -> Tree? {
        do {
            return try Tree.decode(try loader.blob(id, keep: false))
        } catch let failure as DecodingFailure {
            record(id, .tree, .damaged, pack: repository.index.lookup(id)?.pack, "does not decode as a tree: \(failure)")
        } catch where PackVerifier.isDamage(error) {
            record(id, .tree, .damaged, pack: repository.index.lookup(id)?.pack, PackVerifier.reason(error))
        } catch {
            let pack = repository.index.lookup(id)?.pack
            finding(.error, .readFailed, FileName(.data, pack?.hex ?? ""), "cannot read tree blob \(id.hex): \(error)")
        }
        return nil
    }

    /// Packs no index names that hold blobs a snapshot needs are errors, not notes.
    private func markNeededUnindexedPacks() {
        guard !neededUnindexed.isEmpty else { return }
        let needed = Set(neededUnindexed.map { FileName(.data, $0.hex).description })
        let marked = Set(condemned.map { FileName(.data, $0.hex).description })
        replaceFindings(where: { $0.kind == .packUnindexed && needed.contains($0.file) }) { old in
            let remedy = marked.contains(old.file) ? "a prune condemned it; the next prune finds it in use and indexes it again"
                                                   : "run 'snap repair index'"
            return .init(severity: .error, kind: .packUnindexedNeeded, file: old.file,
                         message: "is in no index but holds blobs that snapshots need; \(remedy)")
        }
    }

    // MARK: Naming what damage affects

    /// Walks every snapshot again, descending only into trees that lead to damage, and
    /// records the snapshot path of every file that needs a damaged data blob and of every
    /// folder whose tree is damaged.
    func locateDamage() {
        progress.start(.locate, total: snapshots.count)
        let bad = Set(damage.keys)
        // A tree that is only unindexed still loads: the files below it are named too.
        let lost = Set(damage.filter { $0.value.isLost }.keys)
        var leadsToDamage: [BlobID: Bool] = [:]

        func load(_ id: BlobID) -> Tree? {
            guard let bytes = try? repository.loadBlob(id, decoder: treeDecoder) else { return nil }
            return try? Tree.decode(bytes)
        }

        func containsDamage(_ id: BlobID) -> Bool {
            if lost.contains(id) { return true }
            if let known = leadsToDamage[id] { return known }
            var found = false
            if let tree = load(id) {
                for node in tree.nodes {
                    if node.content.contains(where: bad.contains) { found = true; break }
                    if let subtree = node.subtree, containsDamage(subtree) { found = true; break }
                }
            }
            leadsToDamage[id] = found
            return found
        }

        // A path occurs once per snapshot, so each (blob, snapshot, path) is noted once.
        func note(_ blob: BlobID, _ snapshot: SnapshotID, _ path: [UInt8]) {
            addUse(blob, CheckReport.Use(snapshot: snapshot, path: path))
        }

        func walk(_ id: BlobID, path: [UInt8], snapshot: SnapshotID) {
            if bad.contains(id) { note(id, snapshot, path.isEmpty ? [PathBytes.slash] : path) }
            guard !lost.contains(id), containsDamage(id), let tree = load(id) else { return }
            for node in tree.nodes {
                let nodePath = PathBytes.join(path.isEmpty ? [PathBytes.slash] : path, node.name)
                for blob in Set(node.content) where bad.contains(blob) { note(blob, snapshot, nodePath) }
                if let subtree = node.subtree { walk(subtree, path: nodePath, snapshot: snapshot) }
            }
        }

        for record in snapshots {
            walk(record.snapshot.tree, path: [], snapshot: record.id)
            progress.step()
        }
    }
}
