import Synchronization
import XCTest
import SnapCore
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// Counts writes and deletes per kind of file. Lists several kinds together in key order
/// (`data/` before `index/` before `snapshots/`), as S3 does, and runs `afterData` once,
/// right after the first such listing has listed `data/`.
private final class WatchingBackend: ForwardingBackend, @unchecked Sendable {
    private let counts = Mutex<[String: Int]>([:])
    private let afterData = Mutex<(@Sendable () -> Void)?>(nil)
    /// Refuses every write, as read-only storage does.
    private let readOnly: Bool

    init(_ base: Backend, readOnly: Bool = false, afterData: (@Sendable () -> Void)? = nil) {
        self.readOnly = readOnly
        self.afterData.withLock { $0 = afterData }
        super.init(base)
    }

    func count(_ what: String) -> Int { counts.withLock { $0[what] ?? 0 } }
    private func add(_ what: String) { counts.withLock { $0[what, default: 0] += 1 } }

    override var listsKindsTogether: Bool { true }
    override func write(_ file: FileName, data: [UInt8]) throws {
        add("write \(file.kind.rawValue)")
        if readOnly { throw StorageError.permanent(operation: "write", file: file, location: location, detail: "Read-only file system") }
        try base.write(file, data: data)
    }
    override func delete(_ file: FileName) throws {
        add("delete \(file.kind.rawValue)")
        try base.delete(file)
    }
    override func list(kinds: [FileKind]) throws -> KindListing {
        add("listing")
        return try KindListing.inKeyOrder(kinds, from: base) { kind in
            if kind == .data { afterData.withLock { hook in hook?(); hook = nil } }
        }
    }
}

/// A check that reads no packs in full looks first without a lock, and takes its lock only
/// to check again when that look finds an error (`Checker.run`).
final class CheckFirstLookTests: XCTestCase {
    private func check(_ backend: Backend, readData: PackSubset? = nil, progress: CheckProgress = CheckProgress()) throws -> CheckReport {
        var options = CheckOptions()
        options.workers = 2
        options.lockHostname = "checker"
        options.readData = readData
        return try Checker(repository: try Repository.open(backend: backend, password: testPassword), options: options,
                           progress: progress).run()
    }

    // A healthy repository is checked with one listing and nothing written: no lock is
    // written or removed (two requests fewer on a cloud, and none that needs write access).
    func testAHealthyCheckWritesNothing() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        let watching = WatchingBackend(f.backend)
        let progress = CheckProgress()
        let report = try check(watching, progress: progress)
        XCTAssertTrue(report.isHealthy, report.summary)
        XCTAssertFalse(progress.snapshot.again)
        XCTAssertEqual(watching.count("listing"), 1)
        XCTAssertEqual(watching.count("write locks"), 0)
        XCTAssertEqual(watching.count("delete locks"), 0)
    }

    // Reading packs in full takes long enough for a prune to delete what the check has seen:
    // it holds the lock from the start, as before.
    func testReadingDataHoldsTheLock() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        let watching = WatchingBackend(f.backend)
        let report = try check(watching, readData: .all)
        XCTAssertTrue(report.isHealthy, report.summary)
        XCTAssertEqual(watching.count("write locks"), 1)
        XCTAssertEqual(watching.count("delete locks"), 1)
        XCTAssertEqual(watching.count("listing"), 1, "the lock's listing only")
    }

    // Real damage found by the first look is checked again under the lock, and reported with
    // the files it affects (located in the second check only).
    func testDamageIsCheckedAgainUnderTheLock() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let result = try f.backup()
        try f.delete(try f.location(of: try XCTUnwrap(result.snapshot.tree)).pack)
        let watching = WatchingBackend(f.backend)
        let progress = CheckProgress()
        let report = try check(watching, progress: progress)
        XCTAssertFalse(report.isHealthy)
        XCTAssertTrue(progress.snapshot.again, "the progress line says the check runs again")
        XCTAssertTrue(report.findings.contains { $0.kind == .packMissing }, report.summary)
        XCTAssertFalse(report.damagedBlobs.isEmpty)
        XCTAssertTrue(report.damagedBlobs.contains { !$0.uses.isEmpty }, "the damage is located")
        XCTAssertEqual(watching.count("listing"), 2, "the first look's listing and the lock's")
        XCTAssertEqual(watching.count("write locks"), 1)
        XCTAssertEqual(watching.count("delete locks"), 1)
        XCTAssertEqual(try f.backend.list(.locks).count, 0)
    }

    // On read-only storage the check runs without its lock and says so in an `info` finding,
    // in the report of the check that wanted the lock (not lost when that check starts).
    func testALockThatCannotBeWrittenIsReported() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let result = try f.backup()
        let readOnly = WatchingBackend(f.backend, readOnly: true)
        let healthy = try check(readOnly)
        XCTAssertTrue(healthy.isHealthy, healthy.summary)
        XCTAssertFalse(healthy.findings.contains { $0.kind == .lockUnavailable }, "a healthy first look wants no lock")
        let reading = try check(readOnly, readData: .all)
        XCTAssertTrue(reading.isHealthy, reading.summary)
        XCTAssertTrue(reading.findings.contains { $0.kind == .lockUnavailable && $0.severity == .info }, reading.summary)

        try f.delete(try f.location(of: try XCTUnwrap(result.snapshot.tree)).pack)
        let damaged = try check(readOnly)
        XCTAssertTrue(damaged.findings.contains { $0.kind == .packMissing }, damaged.summary)
        XCTAssertTrue(damaged.findings.contains { $0.kind == .lockUnavailable }, damaged.summary)
    }

    /// Backs up twice (a new file between) and returns the second backup's files.
    private func twoBackups(_ f: CheckFixture) throws -> Set<FileName> {
        let names = { Set(try [FileKind.data, .index, .snapshots].flatMap { try f.backend.list($0).map(\.file) }) }
        try f.buildSource()
        try f.backup()
        let before = try names()
        try Disk.write(f.at("new.bin"), seededBytes(count: 300_000, seed: 9))
        try f.backup()
        let second = try names().subtracting(before)
        XCTAssertTrue(second.contains { $0.kind == .data } && second.contains { $0.kind == .snapshots })
        return second
    }

    // A backup that ends while the first look lists the folders (`data/` before the rest, as
    // on S3) shows a snapshot whose pack was not listed. That look fails; the check under the
    // lock, on a new listing, finds nothing wrong and reports nothing.
    func testABackupEndingDuringTheFirstLookIsNotReported() throws {
        let f = try CheckFixture()
        let second = try twoBackups(f)
        let held = try second.map { ($0, try f.backend.read($0)) }
        for (file, _) in held { try f.backend.delete(file) }

        let base = f.backend
        let watching = WatchingBackend(base) {
            for (file, bytes) in held { try? base.write(file, data: bytes) }
        }
        let report = try check(watching)
        XCTAssertTrue(report.isHealthy, report.summary)
        XCTAssertEqual(report.snapshots.count, 2)
        XCTAssertEqual(watching.count("listing"), 2)
        XCTAssertEqual(watching.count("write locks"), 1, "checked again under the lock")
    }

    // A forget and prune that delete a snapshot with its index file and pack while the first
    // look runs leave a healthy repository, and the look itself finds nothing wrong: files
    // listed and gone when read are taken as deleted.
    func testFilesDeletedDuringTheFirstLookAreNotReported() throws {
        let f = try CheckFixture()
        let second = try twoBackups(f)
        let base = f.backend
        let watching = WatchingBackend(base) {
            for file in second { try? base.delete(file) }
        }
        let report = try check(watching)
        XCTAssertTrue(report.isHealthy, report.summary)
        XCTAssertEqual(report.snapshots.count, 1)
        XCTAssertEqual(watching.count("write locks"), 0)
    }
}
