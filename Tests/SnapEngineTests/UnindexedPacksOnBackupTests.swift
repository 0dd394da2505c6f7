import Foundation
import SnapCore
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

/// A backup lists the repository's packs (to index those no index names) only when a lock
/// shows that a writer died before it could index them (`CoordinationScan.hasDeadWriter`).
final class UnindexedPacksOnBackupTests: XCTestCase {
    /// Backs up `source` into a fresh repository, then deletes its index files: its packs are
    /// what a backup killed before writing its index leaves. Returns the backend and the
    /// number of packs.
    private func repositoryWithUnindexedPacks(_ source: String) throws -> (MemoryBackend, Int) {
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        _ = try PruneTesting.backup(repository, source, time: "2024-01-01T00:00:00Z")
        for info in try memory.list(.index) { try memory.delete(info.file) }
        for info in try memory.list(.snapshots) { try memory.delete(info.file) }
        return (memory, try memory.list(.data).count)
    }

    /// A process ID that no process has now: a child that has exited.
    private func deadPID() throws -> Int32 {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        return child.processIdentifier
    }

    // With no sign of a dead writer the packs stay unindexed and the backup stores its data
    // again; after a writer of this host died (its lock left, its process gone) the next
    // backup indexes them and stores nothing new.
    func testUnindexedPacksAreIndexedOnlyAfterAWriterDied() throws {
        let source = try TemporaryDirectory(prefix: "snap-unindexed")
        defer { source.remove() }
        try PruneTesting.writeFiles(source.appending("data"), count: 5, seed: 41)

        let (quiet, quietPacks) = try repositoryWithUnindexedPacks(source.path)
        _ = try PruneTesting.backup(try Repository.open(backend: quiet, password: testPassword), source.path, time: "2024-01-02T00:00:00Z")
        XCTAssertGreaterThan(try quiet.list(.data).count, quietPacks, "no dead writer: the data was stored again, the packs were not listed")

        let (crashed, crashedPacks) = try repositoryWithUnindexedPacks(source.path)
        let opened = try Repository.open(backend: crashed, password: testPassword)
        let now = WallClock.nowText
        _ = try Coordination.write(CoordinationRecord(kind: .backup, hostname: "test-host", pid: try deadPID(), created: now, refreshed: now),
                                   in: try Repository.open(backend: crashed, password: testPassword))
        _ = try PruneTesting.backup(opened, source.path, time: "2024-01-02T00:00:00Z")
        XCTAssertEqual(try crashed.list(.data).count, crashedPacks, "the dead writer's packs were indexed and reused")
        XCTAssertEqual(try crashed.list(.index).count, 1, "one index file for the packs found")
        XCTAssertEqual(try PruneTesting.problems(in: crashed), [])
    }
}
