import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// Storage that cannot be read says nothing about the data: check reports it as a read
/// failure without calling any blob damaged, and repairs refuse to act on it.
final class CheckStorageFailureTests: XCTestCase {
    private func failingReads(_ f: CheckFixture) throws -> Repository {
        let backend = FaultInjectingBackend(LocalBackend(root: f.repositoryDirectory.path),
                                            rules: [FaultRule(.read, .permanent, probability: 1, kind: .data)])
        return try Repository.open(backend: backend, password: testPassword)
    }

    func testUnreadablePacksAreNotCalledDamaged() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        var options = CheckOptions()
        options.readData = .all
        options.workers = 2
        let report = try Checker(repository: try failingReads(f), options: options).run()
        XCTAssertFalse(report.isHealthy)
        XCTAssertEqual(report.damagedBlobs.count, 0, report.summary)
        XCTAssertEqual(report.findings(.readFailed).count, 1, "the root tree cannot be read: \(report.summary)")
        XCTAssertEqual(Set(report.findings(.packUnreadable).map(\.file)), Set(try f.indexedPacks().map { "data/\($0.hex)" }))
    }

    func testRepairsRefuseWhenStorageFails() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        for info in try f.backend.list(.index) { try f.backend.delete(info.file) }
        let before = try f.files()
        let repairer = Repairer(repository: try failingReads(f), hostname: "test-host", workers: 2)
        XCTAssertThrowsError(try repairer.repairIndex(dryRun: false)) { error in
            guard case StorageError.permanent = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try f.files(), before, "no index was written from a partial view of the packs")

        XCTAssertFalse(try f.repairer().repairIndex(dryRun: false).wasComplete)
        let repaired = try f.files()
        var options = SnapshotRepairOptions()
        options.readData = true
        options.forget = true
        XCTAssertThrowsError(try repairer.repairSnapshots(options)) { error in
            guard case RepairError.readFailed = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try f.files(), repaired, "nothing was rewritten or forgotten")
    }
}
