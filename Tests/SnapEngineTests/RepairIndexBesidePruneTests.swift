import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// `repair index` and prune both rewrite the whole index from a listing of packs, so they
/// run one at a time (campaign 16, F6: an index repair that a prune's deletions overtook
/// wrote an index naming the packs just deleted).
final class RepairIndexBesidePruneTests: XCTestCase {
    /// Runs `during` before the repair writes its first index file: after it listed the
    /// packs and read their headers.
    private final class IndexWriteHook: ForwardingBackend, @unchecked Sendable {
        var during: (() -> Void)?
        override func write(_ file: FileName, data: [UInt8]) throws {
            if file.kind == .index, let during { self.during = nil; during() }
            try base.write(file, data: data)
        }
    }

    // A prune whose deletion mark became eligible while the repair ran deleted its packs
    // after the repair listed them; the repair then wrote an index naming them. Now the
    // prune refuses while the repair holds its lock, and the repaired index names only packs
    // that are there.
    func testPruneDuringIndexRepairRefuses() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        try Disk.write(f.at("big-3.bin"), seededBytes(count: 700_000, seed: 33))
        try Disk.write(f.at("big-1.bin"), seededBytes(count: 400_000, seed: 31))
        let first = try XCTUnwrap(try f.backend.list(.snapshots).first).file
        try f.backup()
        try f.backend.delete(first)  // forgotten: its own packs are unused now

        // A prune condemns them; its mark waits for a backup that is running elsewhere.
        let elsewhere = try Coordination.write(CoordinationRecord(kind: .backup, hostname: "other-host", pid: 4242,
                                                                   created: WallClock.nowText, refreshed: WallClock.nowText), in: try f.open())
        var options = PruneTesting.pruneOptions()
        options.hostname = "prune-host"
        let firstPrune = try Pruner(repository: try f.open(), options: options).run()
        XCTAssertGreaterThan(firstPrune.packsCondemned, 0)
        XCTAssertEqual(firstPrune.packsDeleted, 0, "the mark waits for the backup elsewhere")
        try Coordination.remove(elsewhere, in: try f.open())  // that backup is done: the mark is eligible
        let condemned = Set(try Coordination.scan(try f.open()).marks.flatMap { $0.record.packs ?? [] })
        XCTAssertFalse(condemned.isEmpty)

        // A pack no index names, so that the repair has an index to write.
        let before = Set(try f.backend.list(.index).map(\.file))
        let repository = try f.openWithIndex()
        let saver = BlobSaver(repository: repository)
        let orphan = seededBytes(count: 3000, seed: 42)
        try saver.save(.data, id: repository.keys.blobID(of: orphan), plaintext: orphan)
        _ = try saver.finish()
        for file in Set(try f.backend.list(.index).map(\.file)).subtracting(before) { try f.backend.delete(file) }

        let hooked = IndexWriteHook(f.backend)
        var besideError: Error?
        hooked.during = {
            do { _ = try Pruner(repository: try f.open(), options: options).run() } catch { besideError = error }
        }
        let result = try Repairer(repository: try Repository.open(backend: hooked, password: testPassword),
                                  hostname: "test-host", workers: 2).repairIndex(dryRun: false)
        XCTAssertTrue(besideError.map { "\($0)".contains("another prune or a 'repair index' is running (host test-host") } ?? false,
                      "the prune ran beside the index repair: \(besideError.map { "\($0)" } ?? "no error")")
        XCTAssertFalse(result.writtenFiles.isEmpty)

        let stored = Set(try f.backend.list(.data).compactMap { PackID(hex: $0.file.name) })
        XCTAssertTrue(condemned.isSubset(of: stored), "the prune deleted packs while the repair ran")
        XCTAssertTrue(try f.indexedPacks().isSubset(of: stored), "the index names packs that are gone")
        let report = try f.check()
        XCTAssertTrue(report.isHealthy, report.summary)
        XCTAssertEqual(try f.backend.list(.locks).count, 1, "only the mark is left")

        // Afterwards the prune runs and deletes them.
        let later = try Pruner(repository: try f.open(), options: options).run()
        XCTAssertGreaterThanOrEqual(later.packsDeleted, condemned.count)
        XCTAssertTrue(try f.check().isHealthy)
    }

    // A live prune lock elsewhere: the repair refuses before it writes anything, and says
    // what to do. A dry run, which writes nothing, still runs.
    func testRefusesBesideALivePrune() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        for info in try f.backend.list(.index) { try f.backend.delete(info.file) }
        _ = try Coordination.write(CoordinationRecord(kind: .prune, hostname: "other-host", pid: 4242,
                                                      created: WallClock.nowText, refreshed: WallClock.nowText), in: try f.open())
        let before = try f.files()
        XCTAssertThrowsError(try f.repairer().repairIndex(dryRun: false)) { error in
            XCTAssertTrue("\(error)".hasPrefix("a prune or another 'repair index' is running (host other-host, pid 4242); wait for it"), "\(error)")
        }
        XCTAssertEqual(try f.files(), before, "the refused repair left something behind")
        XCTAssertFalse(try f.repairer().repairIndex(dryRun: true).wasComplete)
    }
}
