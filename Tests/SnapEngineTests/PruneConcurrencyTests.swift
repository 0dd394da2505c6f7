import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import Synchronization
import XCTest

/// Backups never wait for prune, and a prune running beside a backup never deletes data
/// that the backup's snapshot will use.
final class PruneConcurrencyTests: XCTestCase {
    // The hard case: a backup deduplicates against blobs that prune sees as unused (their
    // only snapshot was forgotten) and condemns while the backup runs. Prune must wait for
    // the backup, and the next prune must keep the pack because the new snapshot uses it.
    func testBackupDedupingAgainstCondemnedPackSurvives() throws {
        let source = try TemporaryDirectory(prefix: "snap-race")
        defer { source.remove() }
        let memory = MemoryBackend()
        let setup = try makeEngineRepository(on: memory)
        try PruneTesting.writeFiles(source.appending("data"), count: 6, seed: 21)
        let old = try PruneTesting.backup(setup, source.path, time: "2024-01-01T00:00:00Z")
        try memory.delete(FileName(.snapshots, old.hex))

        // Everything the backup needs is already stored (data and trees deduplicate), so it
        // uploads nothing; it stalls on writing its snapshot while prune runs from start to end.
        let backup = try PruneTesting.StalledBackup(on: memory, path: source.path, time: "2024-01-02T00:00:00Z")
        let during = try Pruner(repository: try Repository.open(backend: memory, password: testPassword), options: PruneTesting.pruneOptions()).run()
        XCTAssertGreaterThan(during.packsCondemned, 0, "the forgotten data was condemned")
        XCTAssertEqual(during.packsDeleted, 0, "nothing deleted while a backup that may use it runs")
        XCTAssertGreaterThan(during.packsDeferred, 0)

        let id = try backup.finish()
        XCTAssertEqual(try PruneTesting.problems(in: memory), [], "the backup's snapshot is whole")
        let after = try Pruner(repository: try Repository.open(backend: memory, password: testPassword), options: PruneTesting.pruneOptions()).run()
        XCTAssertGreaterThan(after.packsResurrected, 0, "the condemned pack is used by the new snapshot and kept")
        XCTAssertEqual(try PruneTesting.problems(in: memory), [])
        _ = try Pruner(repository: try Repository.open(backend: memory, password: testPassword), options: PruneTesting.pruneOptions()).run()
        XCTAssertEqual(try PruneTesting.problems(in: memory), [])
        XCTAssertEqual(try PruneTesting.unusedEntries(in: memory), 0)
        XCTAssertNotNil(try SnapshotStore.all(in: try Repository.open(backend: memory, password: testPassword)).first { $0.id == id })
    }

    // Many random interleavings of a backup and a forget+prune: afterwards every snapshot
    // is whole, and a final prune leaves it so.
    func testRandomInterleavingsOfBackupAndPrune() throws {
        var rng = SplitMix64(seed: 777)
        for round in 0..<20 {
            let source = try TemporaryDirectory(prefix: "snap-interleave")
            defer { source.remove() }
            let memory = MemoryBackend()
            let repository = try makeEngineRepository(on: memory)
            try PruneTesting.writeFiles(source.appending("a"), count: 5, seed: UInt64(100 + round))
            let first = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
            try PruneTesting.writeFiles(source.appending("b"), count: 5, seed: UInt64(200 + round))

            // Random small delays on random calls of both sides shuffle their order.
            func jitter(_ seed: UInt64) -> FaultInjectingBackend {
                FaultInjectingBackend(memory, rules: BackendMethod.allCases.map { FaultRule($0, .delay(0.01), probability: 0.3) }, seed: seed)
            }
            let backupSide = try Repository.open(backend: jitter(rng.next()), password: testPassword)
            let pruneSide = try Repository.open(backend: jitter(rng.next()), password: testPassword)
            let startDelay = useconds_t(rng.next() % 80_000)
            let group = DispatchGroup()
            let failures = Mutex<[String]>([])
            group.enter()
            Thread.detachNewThread {
                do { _ = try PruneTesting.backup(backupSide, source.path, time: "2024-01-02T00:00:00Z") } catch {
                    failures.withLock { $0.append("backup: \(error)") }
                }
                group.leave()
            }
            group.enter()
            Thread.detachNewThread {
                usleep(startDelay)
                do {
                    try pruneSide.backend.delete(FileName(.snapshots, first.hex))
                    _ = try Pruner(repository: pruneSide, options: PruneTesting.pruneOptions()).run()
                } catch {
                    failures.withLock { $0.append("prune: \(error)") }
                }
                group.leave()
            }
            group.wait()
            XCTAssertEqual(failures.withLock { $0 }, [], "round \(round)")
            XCTAssertEqual(try PruneTesting.problems(in: memory), [], "round \(round): after the concurrent run")
            _ = try Pruner(repository: try Repository.open(backend: memory, password: testPassword), options: PruneTesting.pruneOptions()).run()
            XCTAssertEqual(try PruneTesting.problems(in: memory), [], "round \(round): after a final prune")
            XCTAssertEqual(try PruneTesting.unusedEntries(in: memory), 0, "round \(round)")
        }
    }
}
