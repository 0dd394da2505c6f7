import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

/// Readers take no lock, so a prune may repack and delete packs that a reader's index still
/// names: the reader then finds each blob in the prune's new packs.
final class RestoreDuringPruneTests: XCTestCase {
    func testRestoreWithAnIndexFromBeforeAPruneReadsTheNewPacks() throws {
        let source = try TemporaryDirectory(prefix: "snap-relocate-src")
        let target = try TemporaryDirectory(prefix: "snap-relocate-dst")
        defer { source.remove(); target.remove() }
        let backend = MemoryBackend()
        let repository = try makeEngineRepository(on: backend)
        // Kept and dropped files side by side, so that packs hold both and are repacked.
        for i in 0..<12 {
            for (suffix, seed) in [("a", UInt64(i)), ("b", UInt64(100 + i))] {
                try Data(seededBytes(count: 40_000, seed: seed)).write(to: URL(fileURLWithPath: source.appending("f\(i)\(suffix)")))
            }
        }
        let both = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        for i in 0..<12 { try FileManager.default.removeItem(atPath: source.appending("f\(i)b")) }
        let kept = try PruneTesting.backup(repository, source.path, time: "2024-01-02T00:00:00Z")
        try backend.delete(FileName(.snapshots, both.hex))

        // A reader that loaded the index before the prune.
        let reader = try Repository.open(backend: backend, password: testPassword)
        try reader.loadIndex()
        let snapshot = try SnapshotStore.load(kept, from: reader)

        let pruned = try Pruner(repository: try Repository.open(backend: backend, password: testPassword),
                                options: PruneTesting.pruneOptions(maxUnused: 0)).run()
        XCTAssertGreaterThan(pruned.packsRepacked, 0)
        XCTAssertGreaterThan(pruned.packsDeleted, 0)
        let stored = Set(try backend.list(.data).compactMap { PackID(hex: $0.file.name) })
        var stale = 0
        try TreeWalker(repository: try Repository.open(backend: backend, password: testPassword).loadedIndex()).walk(snapshot.tree) { _, node in
            for blob in node.content where reader.index.lookup(blob).map({ !stored.contains($0.pack) }) == true { stale += 1 }
        }
        XCTAssertGreaterThan(stale, 0, "the reader's index names packs the prune deleted")

        var options = RestoreOptions(target: target.path)
        options.workers = 2
        let result = try Restorer(repository: reader, tree: snapshot.tree, options: options).run()
        XCTAssertTrue(result.succeeded, "\(result.damagedBlobs.map(\.reason)) \(result.unreadableFolders)")
        for i in 0..<12 {
            let name = "f\(i)a"
            XCTAssertEqual(FileManager.default.contents(atPath: target.path + source.appending(name)),
                           FileManager.default.contents(atPath: source.appending(name)), name)
        }
    }
}

private extension Repository {
    func loadedIndex() throws -> Repository {
        try loadIndex()
        return self
    }
}
