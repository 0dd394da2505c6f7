import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

final class SnapshotCopierTests: XCTestCase {
    // Two repositories with their own keys: the copy restores the same tree, names the
    // source in `original`, and a second run copies nothing.
    func testCopyBetweenRepositoriesWithOtherKeysAndResume() throws {
        let source = try TemporaryDirectory(prefix: "snap-copy")
        defer { source.remove() }
        let from = MemoryBackend(), to = MemoryBackend()
        let a = try makeEngineRepository(on: from), b = try makeEngineRepository(on: to)
        XCTAssertNotEqual(a.keys, b.keys)
        try PruneTesting.writeFiles(source.appending("d"), count: 3, seed: 70)
        let first = try PruneTesting.backup(a, source.path, time: "2024-01-01T00:00:00Z")
        try "more".write(toFile: source.appending("d/new.txt"), atomically: false, encoding: .utf8)
        let second = try PruneTesting.backup(a, source.path, time: "2024-01-02T00:00:00Z")
        try a.loadIndex()

        let result = try SnapshotCopier(from: a, to: b, hostname: "test-host").copy(try SnapshotStore.all(in: a))
        XCTAssertEqual(result.copied.map(\.source), [first, second])
        XCTAssertGreaterThan(result.blobsCopied, 0)
        XCTAssertEqual(try PruneTesting.problems(in: to), [])
        XCTAssertEqual(try to.list(.locks).count, 0)

        // Same files, same metadata, in both.
        func listing(_ repository: Repository, _ tree: BlobID) throws -> [String] {
            var rows: [String] = []
            try TreeWalker(repository: repository).walk(tree) { path, node in
                rows.append("\(PathBytes.display(path)) \(node.size) \(node.mode) \(node.mtime.seconds)")
            }
            return rows
        }
        let copies = try SnapshotStore.all(in: b)
        let fresh = try Repository.open(backend: to, password: testPassword)
        try fresh.loadIndex()
        for (original, copy) in zip(try SnapshotStore.all(in: a), copies) {
            XCTAssertEqual(copy.snapshot.original, original.id)
            XCTAssertEqual(try listing(a, original.snapshot.tree), try listing(fresh, copy.snapshot.tree))
        }

        let again = try SnapshotCopier(from: a, to: fresh, hostname: "test-host").copy(try SnapshotStore.all(in: a))
        XCTAssertEqual(again.copied.count, 0)
        XCTAssertEqual(again.alreadyCopied, [first, second])
        XCTAssertEqual(try to.list(.snapshots).count, 2)
    }

    // Data is read by stretches of the source's packs, not blob by blob: 300 small files in
    // 30 folders and a large file take a few requests per pack, and every file's content
    // arrives whole in the destination.
    func testDataIsReadByStretchesAndArrivesWhole() throws {
        let source = try TemporaryDirectory(prefix: "snap-copy-stretch")
        defer { source.remove() }
        let from = MemoryBackend(), to = MemoryBackend()
        let a = try makeEngineRepository(on: from), b = try makeEngineRepository(on: to)
        for folder in 0..<30 {
            try PruneTesting.writeFiles(source.appending("d\(folder)"), count: 10, seed: UInt64(100 + folder), size: 2_000)
        }
        try Data(seededBytes(count: 3 << 20, seed: 9)).write(to: URL(fileURLWithPath: source.appending("big.bin")))
        _ = try PruneTesting.backup(a, source.path, time: "2024-01-01T00:00:00Z")

        let counting = CountingBackend(from)
        let reader = try Repository.open(backend: counting, password: testPassword)
        try reader.loadIndex()
        let before = counting.counts[.read]
        let result = try SnapshotCopier(from: reader, to: b, hostname: "test-host", readWorkers: 3).copy(try SnapshotStore.all(in: reader))
        let reads = counting.counts[.read] - before
        let packs = try from.list(.data).count
        XCTAssertEqual(result.copied.count, 1)
        XCTAssertGreaterThan(result.blobsCopied, 300)
        XCTAssertLessThanOrEqual(reads, 2 * packs, "\(reads) reads for \(packs) packs and \(result.blobsCopied) blobs")

        let fresh = try Repository.open(backend: to, password: testPassword)
        try fresh.loadIndex()
        let copy = try XCTUnwrap(try SnapshotStore.all(in: fresh).first)
        var files = 0
        try TreeWalker(repository: fresh).walk(copy.snapshot.tree) { path, node in
            guard node.type == .file else { return }
            let content = try node.content.flatMap { try fresh.loadBlob($0) }
            XCTAssertEqual(content, Array(try Data(contentsOf: URL(fileURLWithPath: PathBytes.display(path)))), PathBytes.display(path))
            files += 1
        }
        XCTAssertEqual(files, 301)
        XCTAssertEqual(try PruneTesting.problems(in: to), [])
    }

    // The destination's index is read after the copy's lock, as a backup's is: blobs of packs
    // that a prune deleted since the destination was opened are stored again, never found in
    // an index read before (here the one the first copy left in memory).
    func testACopyNeverReusesPacksPrunedBeforeItsLock() throws {
        let source = try TemporaryDirectory(prefix: "snap-copy-pruned")
        defer { source.remove() }
        let from = MemoryBackend(), to = MemoryBackend()
        let a = try makeEngineRepository(on: from), b = try makeEngineRepository(on: to)
        try PruneTesting.writeFiles(source.appending("d"), count: 3, seed: 71)
        _ = try PruneTesting.backup(a, source.path, time: "2024-01-01T00:00:00Z")
        try a.loadIndex()
        let records = try SnapshotStore.all(in: a)
        let first = try SnapshotCopier(from: a, to: b, hostname: "test-host").copy(records)
        XCTAssertTrue(b.index.count > 0, "the first copy left its blobs in b's index")

        for (_, copy) in first.copied { try to.delete(FileName(.snapshots, copy.hex)) }
        let pruned = try Pruner(repository: try Repository.open(backend: to, password: testPassword),
                                options: PruneTesting.pruneOptions()).run()
        XCTAssertGreaterThan(pruned.packsDeleted, 0)

        let again = try SnapshotCopier(from: a, to: b, hostname: "test-host").copy(records)
        XCTAssertEqual(again.copied.count, 1)
        XCTAssertEqual(again.blobsPresent, 0, "nothing found in the pruned packs")
        XCTAssertEqual(try PruneTesting.problems(in: to), [])
    }
}
