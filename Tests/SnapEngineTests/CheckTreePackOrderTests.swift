import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// `check` walks a level of trees in pack order, in runs of packs that fit the tree
/// loader's cache, so a level whose trees alternate between packs does not make it read
/// the packs again and again (a million-file repository: 300 pack reads instead of 28).
final class CheckTreePackOrderTests: XCTestCase {
    func testALevelThatAlternatesBetweenPacksReadsEachPackOnce() throws {
        let memory = MemoryBackend()
        var initOptions = Repository.InitOptions()
        initOptions.packSize = 1 << 20
        let writer = try Repository.initialize(backend: memory, password: testPassword, options: initOptions,
                                               hostname: "h", username: "u", now: "2024-01-01T00:00:00Z")
        let saver = BlobSaver(repository: writer)
        func save(_ tree: Tree) throws -> BlobID {
            let bytes = tree.encoded()
            let id = writer.keys.blobID(of: bytes)
            try saver.save(.tree, id: id, plaintext: bytes)
            return id
        }
        // 240 folders of 300 symlinks with random targets (about 20 KiB of tree each, which
        // does not compress), saved in order, so that the packs of 1 MiB fill one after another.
        let random = seededBytes(count: 240 * 300 * 48, seed: 11)
        var folders: [BlobID] = []
        for f in 0..<240 {
            let links = (0..<300).map { i in
                let at = (f * 300 + i) * 48
                return Node(name: Array("link\(1000 + i)".utf8), type: .symlink, linkTarget: Array(random[at..<at + 48]))
            }
            folders.append(try save(Tree(nodes: links)))
        }
        // The root names them so that its sorted order takes every fifth folder: the level
        // sweeps through all the packs five times.
        let root = try save(Tree(nodes: folders.enumerated().map { k, id in
            Node(name: Array("\(k % 5)-\(1000 + k / 5)".utf8), type: .directory, subtree: id)
        }.sorted { $0.name.lexicographicallyPrecedes($1.name) }))
        _ = try saver.finish()
        _ = try SnapshotStore.save(Snapshot(time: "2024-01-01T00:00:00Z", hostname: "h", username: "u", uid: 0, gid: 0, paths: ["/"],
                                            tags: [], excludes: [], parent: nil, tree: root, summary: nil, programVersion: snapVersion),
                                   in: writer)

        let counting = CountingBackend(memory)
        let repository = try Repository.open(backend: counting, password: testPassword)
        try repository.loadIndex()
        let treePacks = Set(folders.compactMap { repository.index.lookup($0)?.pack })
        XCTAssertGreaterThanOrEqual(treePacks.count, 4, "the folders' trees fill several packs")
        var options = CheckOptions()
        options.trees.cacheBytes = 3 << 19  // one pack and a half
        let before = counting.counts[.read]
        let report = try Checker(repository: repository, options: options).run()
        XCTAssertTrue(report.isHealthy, report.summary)
        XCTAssertEqual(report.statistics.trees, 241)
        // Each tree pack once, the root's pack perhaps once more, the snapshot and the index.
        XCTAssertLessThanOrEqual(counting.counts[.read] - before, treePacks.count + 4)
    }
}
