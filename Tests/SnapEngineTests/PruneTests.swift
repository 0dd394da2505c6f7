import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

/// Prune removes exactly what no snapshot uses, and every remaining snapshot stays whole.
final class PruneTests: XCTestCase {
    // After forgetting a snapshot, prune with --max-unused 0 leaves no unused blob, frees
    // space, keeps every remaining snapshot complete, and a second prune changes nothing.
    func testPruneFreesUnusedDataAndKeepsSnapshotsWhole() throws {
        let source = try TemporaryDirectory(prefix: "snap-prune-src")
        defer { source.remove() }
        let backend = MemoryBackend()
        let repository = try makeEngineRepository(on: backend)
        try PruneTesting.writeFiles(source.appending("a"), count: 12, seed: 1)
        let first = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        try FileManager.default.removeItem(atPath: source.appending("a"))
        try PruneTesting.writeFiles(source.appending("b"), count: 12, seed: 2)
        _ = try PruneTesting.backup(repository, source.path, time: "2024-01-02T00:00:00Z")
        try backend.delete(FileName(.snapshots, first.hex))
        let before = try backend.list(.data).reduce(0) { $0 + $1.size }
        XCTAssertGreaterThan(try PruneTesting.unusedEntries(in: backend), 0)

        let result = try Pruner(repository: try Repository.open(backend: backend, password: testPassword),
                                options: PruneTesting.pruneOptions()).run()
        XCTAssertGreaterThan(result.packsDeleted, 0)
        XCTAssertEqual(result.packsDeferred, 0)
        XCTAssertEqual(try PruneTesting.unusedEntries(in: backend), 0)
        XCTAssertEqual(try PruneTesting.problems(in: backend), [])
        let after = try backend.list(.data).reduce(0) { $0 + $1.size }
        XCTAssertLessThan(after, before * 2 / 3, "about half the data was unused")
        XCTAssertEqual(before - after, result.bytesDeleted - result.bytesWritten, "what the summary says the data shrank by")
        XCTAssertEqual(result.packsWritten > 0, result.packsRepacked > 0)
        XCTAssertEqual(try backend.list(.locks).count, 0, "no lock or mark left behind")

        let again = try Pruner(repository: try Repository.open(backend: backend, password: testPassword),
                               options: PruneTesting.pruneOptions()).run()
        XCTAssertEqual(again.packsCondemned, 0)
        XCTAssertEqual(again.packsDeleted, 0)
        XCTAssertEqual(try backend.list(.data).reduce(0) { $0 + $1.size }, after)
    }

    // --dry-run reports the plan and writes or deletes nothing.
    func testDryRunChangesNothing() throws {
        let source = try TemporaryDirectory(prefix: "snap-prune-dry")
        defer { source.remove() }
        let backend = MemoryBackend()
        let repository = try makeEngineRepository(on: backend)
        try PruneTesting.writeFiles(source.appending("x"), count: 5, seed: 3)
        let id = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        try backend.delete(FileName(.snapshots, id.hex))
        let files = try allFiles(backend)
        var options = PruneTesting.pruneOptions()
        options.dryRun = true
        let plan = try Pruner(repository: try Repository.open(backend: backend, password: testPassword), options: options).run()
        XCTAssertGreaterThan(plan.packsCondemned, 0)
        XCTAssertEqual(plan.packsDeleted, 0)
        XCTAssertEqual(try allFiles(backend), files)
    }

    // A second prune refuses to run while another live prune holds its lock.
    func testOnlyOnePruneAtATime() throws {
        let backend = MemoryBackend()
        let repository = try makeEngineRepository(on: backend)
        let other = CoordinationRecord(kind: .prune, hostname: "other-host", pid: 4242, created: WallClock.nowText, refreshed: WallClock.nowText)
        _ = try Coordination.write(other, in: repository)
        XCTAssertThrowsError(try Pruner(repository: repository, options: PruneTesting.pruneOptions()).run()) { error in
            XCTAssertTrue("\(error)".contains("another prune or a 'repair index' is running"), "\(error)")
        }
    }

    // A lock left by a dead process on this host, or not refreshed for longer than the stale time, blocks nothing.
    func testDeadLocksDoNotBlock() throws {
        let backend = MemoryBackend()
        let repository = try makeEngineRepository(on: backend)
        let deadHere = CoordinationRecord(kind: .prune, hostname: "test-host", pid: Int32.max - 7, created: WallClock.nowText, refreshed: WallClock.nowText)
        let old = RFC3339.format(Timestamp(seconds: WallClock.now.seconds - 7200, nanoseconds: 0), utcOffset: 0)
        let staleElsewhere = CoordinationRecord(kind: .prune, hostname: "other-host", pid: 1, created: old, refreshed: old)
        _ = try Coordination.write(deadHere, in: repository)
        _ = try Coordination.write(staleElsewhere, in: repository)
        XCTAssertNoThrow(try Pruner(repository: repository, options: PruneTesting.pruneOptions()).run())
        XCTAssertEqual(try backend.list(.locks).count, 0, "dead locks were cleaned up")
    }
}

/// What prune says when it cannot know what is used.
final class PruneRefusalTests: XCTestCase {
    // An index file that fails authentication leaves a snapshot's trees in no index: prune
    // refuses and names the index (what `repair index` mends), not the snapshot.
    func testDamagedIndexFileIsNamedAsTheIndex() throws {
        let source = try TemporaryDirectory(prefix: "snap-prune-index")
        defer { source.remove() }
        let backend = MemoryBackend()
        let repository = try makeEngineRepository(on: backend)
        try PruneTesting.writeFiles(source.appending("a"), count: 3, seed: 4)
        _ = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        let index = try XCTUnwrap(try backend.list(.index).first).file
        var bytes = try backend.read(index, range: nil)
        bytes[bytes.count / 2] ^= 0x01
        try backend.delete(index)
        try backend.write(index, data: bytes)

        XCTAssertThrowsError(try Pruner(repository: try Repository.open(backend: backend, password: testPassword),
                                        options: PruneTesting.pruneOptions()).run()) { error in
            guard case PruneError.indexUnreadable(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.hasPrefix("index \(index.name.prefix(8))"), detail)
            XCTAssertTrue("\(error)".hasSuffix("run 'snap repair index', then 'snap check'"), "\(error)")
        }
    }
}
