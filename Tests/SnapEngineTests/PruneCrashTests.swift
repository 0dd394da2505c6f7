import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

/// Prune interrupted at any write or delete leaves a repository whose snapshots are all
/// whole, and a second prune finishes the job.
final class PruneCrashTests: XCTestCase {
    // 24 interruption points chosen by a seeded RNG over every write and delete a prune makes.
    func testPruneInterruptedAtRandomPointsRecovers() throws {
        let source = try TemporaryDirectory(prefix: "snap-prune-crash")
        defer { source.remove() }
        let original = MemoryBackend()
        let repository = try makeEngineRepository(on: original)
        // Three generations of data, the middle snapshot forgotten: unused packs and partly used ones.
        try PruneTesting.writeFiles(source.appending("keep"), count: 6, seed: 10)
        try PruneTesting.writeFiles(source.appending("gen"), count: 8, seed: 11)
        _ = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        try FileManager.default.removeItem(atPath: source.appending("gen"))
        try PruneTesting.writeFiles(source.appending("gen"), count: 8, seed: 12)
        let middle = try PruneTesting.backup(repository, source.path, time: "2024-01-02T00:00:00Z")
        try FileManager.default.removeItem(atPath: source.appending("gen"))
        try PruneTesting.writeFiles(source.appending("gen"), count: 8, seed: 13)
        _ = try PruneTesting.backup(repository, source.path, time: "2024-01-03T00:00:00Z")
        try original.delete(FileName(.snapshots, middle.hex))

        // Count the calls an uninterrupted prune makes.
        let counting = FaultInjectingBackend(try PruneTesting.copy(original), rules: [])
        _ = try Pruner(repository: try Repository.open(backend: counting, password: testPassword), options: PruneTesting.pruneOptions()).run()
        let writes = counting.calls(.write), deletes = counting.calls(.delete)
        XCTAssertGreaterThan(writes, 3)
        XCTAssertGreaterThan(deletes, 3)

        var rng = SplitMix64(seed: 424_242)
        var interrupted = 0
        for _ in 0..<24 {
            let method: BackendMethod = rng.next() % 2 == 0 ? .write : .delete
            let call = 1 + Int(rng.next() % UInt64(method == .write ? writes : deletes))
            let copy = try PruneTesting.copy(original)
            let faulty = FaultInjectingBackend(copy, rules: [FaultRule(method, .permanent, calls: [call])])
            do {
                _ = try Pruner(repository: try Repository.open(backend: faulty, password: testPassword), options: PruneTesting.pruneOptions()).run()
            } catch {
                interrupted += 1
            }
            XCTAssertEqual(try PruneTesting.problems(in: copy), [], "after interruption at \(method) #\(call)")
            _ = try Pruner(repository: try Repository.open(backend: copy, password: testPassword), options: PruneTesting.pruneOptions()).run()
            XCTAssertEqual(try PruneTesting.problems(in: copy), [], "after the second prune (interrupted at \(method) #\(call))")
            XCTAssertEqual(try PruneTesting.unusedEntries(in: copy), 0, "the second prune finished the job (\(method) #\(call))")
            // The interrupted prune ran in this very process, so its lock (if its removal was the
            // interrupted call) belongs to a live PID and rightly stays; no deletion mark may.
            let marks = try Coordination.scan(try Repository.open(backend: copy, password: testPassword)).marks
            XCTAssertEqual(marks.count, 0, "no deletion mark left (\(method) #\(call))")
        }
        XCTAssertGreaterThanOrEqual(interrupted, 20, "the faults must really interrupt prune")
    }
}
