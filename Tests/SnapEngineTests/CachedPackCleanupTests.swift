import Foundation
import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// A machine that only backs up keeps copies of the tree packs it wrote or read in its
/// metadata cache; once a prune elsewhere has repacked or deleted them, loading the index
/// drops those copies (as restic does), so the cache does not grow with every prune.
final class CachedPackCleanupTests: XCTestCase {
    func testCopiesOfPacksTheIndexNoLongerNamesAreDropped() throws {
        let f = try BackupFixture()
        let cache = try TemporaryDirectory(prefix: "snap-pack-cache")
        defer { cache.remove() }
        func hostA() throws -> Repository {
            try Repository.open(backend: LocalBackend(root: f.repositoryDirectory.path), password: testPassword, cacheRoot: cache.path)
        }
        try PruneTesting.writeFiles(f.source("src/a"), count: 2, seed: 90)
        var ids: [SnapshotID] = []
        for n in 0..<3 {
            try PruneTesting.writeFiles(f.source("src/b\(n)"), count: 1, seed: UInt64(91 + n))
            ids.append(try PruneTesting.backup(try hostA(), f.source("src"), time: "2024-01-0\(n + 1)T00:00:00Z"))
        }
        let copies = "\(cache.path)/\(f.repository.config.id)/data"
        func cachedPacks() -> Set<String> {
            Set((FileManager.default.enumerator(atPath: copies)?.allObjects as? [String] ?? []).compactMap { $0.split(separator: "/").last.map(String.init) }
                .filter { $0.count == 64 })
        }
        XCTAssertGreaterThanOrEqual(cachedPacks().count, 3, "each backup kept its tree pack")

        // Elsewhere: the first two snapshots forgotten, then pruned with every unused blob removed.
        for id in ids.prefix(2) { try f.backend.delete(FileName(.snapshots, id.hex)) }
        for _ in 0..<2 {
            let elsewhere = try Repository.open(backend: LocalBackend(root: f.repositoryDirectory.path), password: testPassword)
            _ = try Pruner(repository: elsewhere, options: PruneTesting.pruneOptions()).run()
        }
        let stored = Set(try f.backend.list(.data).map(\.file.name))
        XCTAssertFalse(cachedPacks().isSubset(of: stored), "the prune deleted packs this machine has copies of")

        let reopened = try hostA()
        try reopened.loadIndex()
        let kept = cachedPacks()
        XCTAssertFalse(kept.isEmpty, "copies of packs still in use stay")
        XCTAssertTrue(kept.allSatisfy { PackID(hex: $0).flatMap(reopened.index.packSize) != nil }, "\(kept)")
        XCTAssertTrue(kept.isSubset(of: stored))
    }
}
