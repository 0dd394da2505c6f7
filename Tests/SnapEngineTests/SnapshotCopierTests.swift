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
        try b.loadIndex()

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
}
