import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// Commands that walk trees read them by whole packs: about one request per pack of trees,
/// never one per folder. Counted by a `CountingBackend` over a real local repository.
final class TreeRequestTests: XCTestCase {
    private var fixture: BackupFixture!
    private var tree: BlobID!
    private static let folders = 20

    override func setUpWithError() throws {
        fixture = try BackupFixture()
        // 20 × 20 folders, each with one empty file (no data blobs): 421 trees and more.
        for i in 0..<Self.folders {
            for j in 0..<Self.folders {
                let folder = fixture.source("tree/d\(i)/e\(j)")
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data().write(to: URL(fileURLWithPath: folder + "/f"))
            }
        }
        tree = try fixture.backup([fixture.source("tree")]).snapshot.tree
    }

    override func tearDown() { fixture = nil }

    /// A fresh reader over a counting backend, with its index loaded, and its tree packs and tree blobs.
    private func reader(over backend: Backend) throws -> (Repository, treePacks: Int, treeBlobs: Int) {
        let repository = try Repository.open(backend: backend, password: testPassword)
        try repository.loadIndex()
        var packs: Set<PackID> = [], blobs = 0
        for id in repository.index.allBlobIDs() {
            guard let location = repository.index.lookup(id), location.entry.type == .tree else { continue }
            packs.insert(location.pack)
            blobs += 1
        }
        return (repository, packs.count, blobs)
    }

    func testCheckReadsTreesByPack() throws {
        let counting = CountingBackend(fixture.backend)
        let (repository, treePacks, treeBlobs) = try reader(over: counting)
        XCTAssertGreaterThan(treeBlobs, Self.folders * Self.folders)
        let before = counting.counts[.read]
        let report = try Checker(repository: repository).run()
        XCTAssertTrue(report.isHealthy)
        XCTAssertEqual(report.statistics.trees, treeBlobs)
        // Besides the tree packs: the snapshot and the index files.
        XCTAssertLessThanOrEqual(counting.counts[.read] - before, treePacks + 5)
    }

    func testRestoreReadsTreesByPack() throws {
        let counting = CountingBackend(fixture.backend)
        let (repository, treePacks, _) = try reader(over: counting)
        let before = counting.counts[.read]
        var options = RestoreOptions(target: fixture.targetDirectory.path)
        options.workers = 2
        let result = try Restorer(repository: repository, tree: tree, options: options).run()
        XCTAssertEqual(result.errors, [])
        XCTAssertEqual(result.files, Self.folders * Self.folders)
        XCTAssertLessThanOrEqual(counting.counts[.read] - before, treePacks + 2)
    }

    func testWalkReadsTreesByPack() throws {
        let counting = CountingBackend(fixture.backend)
        let (repository, treePacks, _) = try reader(over: counting)
        let before = counting.counts[.read]
        var entries = 0
        try TreeWalker(repository: repository).walk(tree) { _, _ in entries += 1 }
        XCTAssertGreaterThan(entries, 2 * Self.folders * Self.folders)
        XCTAssertLessThanOrEqual(counting.counts[.read] - before, treePacks)
    }

    // Trees are kept sealed and opened only when asked for: loading the root reads its whole
    // pack but opens the root alone; a subtree from that pack then costs no read, and one
    // taken with `keep: false` is gone from the cache (its pack is read again).
    func testTreesAreOpenedOnlyWhenAskedFor() throws {
        let counting = CountingBackend(fixture.backend)
        let (repository, treePacks, treeBlobs) = try reader(over: counting)
        XCTAssertEqual(treePacks, 1, "the fixture's trees share one pack")
        XCTAssertGreaterThan(treeBlobs, Self.folders * Self.folders)
        let loader = TreeLoader(repository: repository)
        let root = try loader.tree(tree)
        XCTAssertEqual(loader.packsRead, 1)
        XCTAssertEqual(loader.treesOpened, 1)
        let reads = counting.counts[.read]
        let sub = try XCTUnwrap(root.nodes.first { $0.type == .directory }?.subtree)
        let subtree = try loader.tree(sub, keep: false)
        XCTAssertFalse(subtree.nodes.isEmpty)
        XCTAssertEqual(loader.treesOpened, 2)
        XCTAssertEqual(counting.counts[.read], reads, "the subtree came from the pack read for the root")
        XCTAssertEqual(try loader.tree(sub), subtree)
        XCTAssertEqual(loader.packsRead, 2, "taken with keep: false, the subtree was no longer cached")
        XCTAssertEqual(loader.treesOpened, 3)
    }

    // A cache that keeps tree packs (as `snap check` uses it) answers the second check.
    func testCheckReadsTreePacksFromTheCache() throws {
        let cache = try TemporaryDirectory(prefix: "snap-tree-cache")
        defer { cache.remove() }
        let counting = CountingBackend(fixture.backend)
        let cached = CachingBackend(counting, directory: cache.path, kinds: [.data])
        let (repository, treePacks, _) = try reader(over: cached)
        var reads: [Int] = []
        for _ in 0..<2 {
            let before = counting.counts[.read]
            XCTAssertTrue(try Checker(repository: repository).run().isHealthy)
            reads.append(counting.counts[.read] - before)
        }
        XCTAssertGreaterThan(treePacks, 0)
        XCTAssertEqual(reads[1], reads[0] - treePacks, "the second check reads no tree pack from the repository")
    }

    // A small cache bound drops decoded trees, which are read again: still correct.
    func testSmallCacheStillLoadsEveryTree() throws {
        let (repository, _, _) = try reader(over: fixture.backend)
        var options = TreeLoader.Options()
        options.cacheBytes = 16 << 10
        var small: [[UInt8]] = [], usual: [[UInt8]] = []
        try TreeWalker(repository: repository, options: options).walk(tree) { path, _ in small.append(path) }
        try TreeWalker(repository: repository).walk(tree) { path, _ in usual.append(path) }
        XCTAssertGreaterThan(usual.count, 2 * Self.folders * Self.folders)
        XCTAssertEqual(small, usual)
    }
}
