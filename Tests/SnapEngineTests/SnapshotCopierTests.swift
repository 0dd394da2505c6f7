import Foundation
import SnapCore
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

final class SnapshotCopierTests: XCTestCase {
    /// A folder to back up, and two repositories with keys of their own: `a` on `from`, the
    /// copy's source, and `b` on `to`.
    private var source: TemporaryDirectory!
    private var from: MemoryBackend!, to: MemoryBackend!
    private var a: Repository!, b: Repository!

    override func setUpWithError() throws {
        source = try TemporaryDirectory(prefix: "snap-copy")
        from = MemoryBackend()
        to = MemoryBackend()
        a = try makeEngineRepository(on: from)
        b = try makeEngineRepository(on: to)
    }

    override func tearDown() { source.remove() }

    // Two repositories with their own keys: the copy restores the same tree, names the
    // source in `original`, and a second run copies nothing.
    func testCopyBetweenRepositoriesWithOtherKeysAndResume() throws {
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

    // A snapshot retagged or rewritten in the source since it was copied is copied again
    // (as restic's copy compares labels, not just the line): the destination gets the new
    // tags and the tree without the removed file. Unchanged ones stay skipped.
    func testRetaggedOrRewrittenSnapshotsAreCopiedAgain() throws {
        try PruneTesting.writeFiles(source.appending("d"), count: 3, seed: 71)
        try "secret".write(toFile: source.appending("d/secret.txt"), atomically: false, encoding: .utf8)
        _ = try PruneTesting.backup(a, source.path, time: "2024-01-01T00:00:00Z")
        let kept = try PruneTesting.backup(a, source.path, time: "2024-01-02T00:00:00Z")
        try a.loadIndex()
        XCTAssertEqual(try SnapshotCopier(from: a, to: b, hostname: "test-host").copy(try SnapshotStore.all(in: a)).copied.count, 2)

        let first = try XCTUnwrap(try SnapshotStore.all(in: a).first)
        let retagged = try XCTUnwrap(try SnapshotTagger(repository: a, hostname: "test-host").retag([first], TagChange(add: ["keep"])).first?.new)
        let rewritten = try SnapshotRewriter(repository: a, excludes: ["secret.txt"], hostname: "test-host", dryRun: false)
            .rewrite(try SnapshotStore.all(in: a).filter { $0.id == retagged }, forget: true)
        let clean = try XCTUnwrap(rewritten.first?.replacement)
        try a.loadIndex()

        let fresh = try Repository.open(backend: to, password: testPassword)
        let again = try SnapshotCopier(from: a, to: fresh, hostname: "test-host").copy(try SnapshotStore.all(in: a))
        XCTAssertEqual(again.copied.map(\.source), [clean])
        XCTAssertEqual(again.alreadyCopied, [kept])
        try fresh.loadIndex()
        let copy = try SnapshotStore.load(try XCTUnwrap(again.copied.first?.copy), from: fresh)
        XCTAssertEqual(copy.tags, ["keep"])
        var paths: [String] = []
        try TreeWalker(repository: fresh).walk(copy.tree) { path, _ in paths.append(PathBytes.display(path)) }
        XCTAssertFalse(paths.contains { $0.hasSuffix("secret.txt") }, "\(paths)")
        XCTAssertTrue(paths.contains { $0.hasSuffix("d") }, "\(paths)")
    }

    // A snapshot that cannot be copied (its data pack lost in the source) stops the copy
    // there, but the snapshots copied before it are saved and what was uploaded is indexed:
    // the destination checks clean, and a second run has nothing left to upload for them.
    func testAFailedSnapshotKeepsTheOnesCopiedBeforeIt() throws {
        var ids: [SnapshotID] = []
        var packsBefore = Set<FileInfo>()
        for n in 0..<3 {
            packsBefore = Set(try from.list(.data))
            try PruneTesting.writeFiles(source.appending("d\(n)"), count: 2, seed: UInt64(80 + n))
            ids.append(try PruneTesting.backup(a, source.appending("d\(n)"), time: "2024-01-0\(n + 1)T00:00:00Z"))
        }
        // The third backup's data pack(s): not there after the second.
        let third = Set(try from.list(.data)).subtracting(packsBefore)
        let lost = try XCTUnwrap(third.max { $0.size < $1.size })
        try from.delete(lost.file)
        try a.loadIndex()

        XCTAssertThrowsError(try SnapshotCopier(from: a, to: b, hostname: "test-host").copy(try SnapshotStore.all(in: a))) { error in
            guard let stopped = error as? CopyStopped else { return XCTFail("\(error)") }
            XCTAssertEqual(stopped.result.copied.map(\.source), Array(ids.prefix(2)))
            XCTAssertEqual(stopped.result.failed?.source, ids[2])
            XCTAssertTrue("\(stopped)".contains("2 snapshots copied before it were saved"), "\(stopped)")
        }
        XCTAssertEqual(try to.list(.snapshots).count, 2)
        XCTAssertEqual(try PruneTesting.problems(in: to), [], "every uploaded pack is in an index")
        XCTAssertEqual(try to.list(.locks).count, 0)
        let fresh = try Repository.open(backend: to, password: testPassword)
        let again = try SnapshotCopier(from: a, to: fresh, hostname: "test-host").copy(Array(try SnapshotStore.all(in: a).prefix(2)))
        XCTAssertEqual(again.alreadyCopied, Array(ids.prefix(2)))
        XCTAssertEqual(again.blobsCopied, 0)
    }

    // Data is read by stretches of the source's packs, not blob by blob: 300 small files in
    // 30 folders and a large file take a few requests per pack, and every file's content
    // arrives whole in the destination.
    func testDataIsReadByStretchesAndArrivesWhole() throws {
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

    // Batches of three references: a blob repeated across many folders (met again after
    // its batch and the one after are gone, so read again), a folder repeated whole (one
    // tree, walked once), and two snapshots that share trees. Every file arrives whole, and
    // the destination holds each blob once.
    func testRepeatedBlobsAndTreesAcrossSmallBatches() throws {
        for folder in 0..<6 {
            let path = source.appending("d\(folder)")
            try PruneTesting.writeFiles(path, count: 4, seed: UInt64(300 + folder), size: 3_000)
            try "the same in every folder".write(toFile: "\(path)/same.txt", atomically: false, encoding: .utf8)
        }
        for twin in ["t1", "t2"] {  // identical folders: one tree
            try PruneTesting.writeFiles(source.appending(twin), count: 3, seed: 400, size: 2_000)
        }
        _ = try PruneTesting.backup(a, source.path, time: "2024-01-01T00:00:00Z")
        try "changed".write(toFile: source.appending("d5/same.txt"), atomically: false, encoding: .utf8)
        _ = try PruneTesting.backup(a, source.path, time: "2024-01-02T00:00:00Z")
        try a.loadIndex()

        let copier = SnapshotCopier(from: a, to: b, hostname: "test-host")
        copier.batchReferences = 3
        let result = try copier.copy(try SnapshotStore.all(in: a))
        XCTAssertEqual(result.copied.count, 2)
        XCTAssertGreaterThan(result.blobsPresent, 0, "blobs met again after their batches are read again and found stored")
        XCTAssertEqual(try PruneTesting.problems(in: to), [])

        let fresh = try Repository.open(backend: to, password: testPassword)
        try fresh.loadIndex()
        for (original, copy) in zip(try SnapshotStore.all(in: a), try SnapshotStore.all(in: fresh)) {
            var want: [String: [UInt8]] = [:], got: [String: [UInt8]] = [:]
            try TreeWalker(repository: a).walk(original.snapshot.tree) { path, node in
                if node.type == .file { want[PathBytes.display(path)] = try node.content.flatMap { try a.loadBlob($0) } }
            }
            try TreeWalker(repository: fresh).walk(copy.snapshot.tree) { path, node in
                if node.type == .file { got[PathBytes.display(path)] = try node.content.flatMap { try fresh.loadBlob($0) } }
            }
            XCTAssertEqual(got.count, 6 * 5 + 2 * 3)
            XCTAssertEqual(got, want)
        }
        // Each distinct blob once: as many index entries as distinct IDs.
        var entries = 0
        var ids: Set<BlobID> = []
        for info in try to.list(.index) {
            let file = try fresh.loadIndexFile(try XCTUnwrap(IndexID(hex: info.file.name)))
            for pack in file.packs { for blob in pack.entries { entries += 1; ids.insert(blob.id) } }
        }
        XCTAssertEqual(entries, ids.count)
        XCTAssertEqual(a.index.allBlobIDs().count, ids.count, "the same number of distinct blobs as the source")
    }

    // The destination's index is read after the copy's lock, as a backup's is: blobs of packs
    // that a prune deleted since the destination was opened are stored again, never found in
    // an index read before (here the one the first copy left in memory).
    func testACopyNeverReusesPacksPrunedBeforeItsLock() throws {
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
