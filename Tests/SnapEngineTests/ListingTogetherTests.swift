import Foundation
import Synchronization
import XCTest
import SnapCore
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// Lists several kinds together in key order (`data/` before `index/` before `snapshots/`),
/// as S3 does, and runs `between` after each kind, so that a test can write files while the
/// listing runs. Counts listings together and, apart, listings of one kind. `began` is the
/// storage time it reports for the listing's start (none by default).
private final class TogetherListingBackend: ForwardingBackend, @unchecked Sendable {
    private let between: @Sendable (FileKind) -> Void
    private let began: Double?
    private let counts = Mutex<[String: Int]>([:])
    init(_ base: Backend, began: Double? = nil, between: @escaping @Sendable (FileKind) -> Void = { _ in }) {
        self.between = between
        self.began = began
        super.init(base)
    }

    override var listsKindsTogether: Bool { true }
    func count(_ what: String) -> Int { counts.withLock { $0[what] ?? 0 } }
    private func add(_ what: String) { counts.withLock { $0[what, default: 0] += 1 } }

    override func list(_ kind: FileKind) throws -> [FileInfo] {
        add("list \(kind.rawValue)")
        return try base.list(kind)
    }
    override func list(kinds: [FileKind]) throws -> KindListing {
        add("together")
        return try KindListing.inKeyOrder(kinds, from: base, began: began, between: between)
    }
}

/// Commands that list folders together with their lock (`RepositoryLock.withListing`), on
/// a provider that lists them together in key order as S3 does.
final class ListingTogetherTests: XCTestCase {
    private func check(_ backend: Backend) throws -> CheckReport {
        var options = CheckOptions()
        options.workers = 2
        options.lockHostname = "checker"
        // These tests are about the lock's listing: no first look without it.
        options.lookFirstWithoutLock = false
        return try Checker(repository: try Repository.open(backend: backend, password: testPassword), options: options).run()
    }

    private func names(_ backend: Backend) throws -> Set<FileName> {
        Set(try [FileKind.data, .index, .snapshots].flatMap { try backend.list($0).map(\.file) })
    }

    /// Backs up twice (a new file between) and takes the second backup's files out of the
    /// repository, for a test to write back while a listing runs, as if that backup ended then.
    private func holdSecondBackup(_ f: CheckFixture, seed: UInt64) throws -> (result: BackupResult, held: [(FileName, [UInt8])]) {
        try f.buildSource()
        try f.backup()
        let before = try names(f.backend)
        try Disk.write(f.at("new.bin"), seededBytes(count: 300_000, seed: seed))
        let result = try f.backup()
        let held = try names(f.backend).subtracting(before).map { ($0, try f.backend.read($0)) }
        for (file, _) in held { try f.backend.delete(file) }
        return (result, held)
    }

    /// A backend listing together that writes `held` back right after listing `kind`.
    private func writingBack(_ held: [(FileName, [UInt8])], after kind: FileKind, on base: LocalBackend,
                             began: Double? = nil) -> TogetherListingBackend {
        TogetherListingBackend(base, began: began) { listed in
            guard listed == kind else { return }
            for (file, bytes) in held { try? base.write(file, data: bytes) }
        }
    }

    /// Makes every index file and snapshot look stored an hour ago.
    private func backdateIndexAndSnapshots(_ f: CheckFixture) throws {
        let hourAgo = Date(timeIntervalSinceNow: -3600)
        for kind: FileKind in [.index, .snapshots] {
            for info in try f.backend.list(kind) {
                try FileManager.default.setAttributes([.modificationDate: hourAgo], ofItemAtPath: f.backend.path(of: info.file))
            }
        }
    }

    // A backup that ends while the folders are listed together can show its index file and
    // snapshot without its packs (listed first). Check then lists folder by folder and checks
    // again, and reports no damage that is not there.
    func testABackupEndingDuringTheListingIsCheckedAgainNotReported() throws {
        let f = try CheckFixture()
        let (_, held) = try holdSecondBackup(f, seed: 77)
        XCTAssertTrue(held.contains { $0.0.kind == .data } && held.contains { $0.0.kind == .snapshots })
        let counting = writingBack(held, after: .data, on: f.backend)
        let report = try check(counting)
        XCTAssertTrue(report.isHealthy, report.summary)
        XCTAssertEqual(report.snapshots.count, 2)
        XCTAssertEqual(counting.count("together"), 1)
        XCTAssertEqual(counting.count("list data"), 1, "listed again alone")
        XCTAssertEqual(counting.count("list snapshots"), 1)
    }

    // Real damage found in a listing that may be torn is still reported, after the second look.
    func testDamageIsReportedAfterTheSecondLook() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let result = try f.backup()
        try f.delete(try f.location(of: try XCTUnwrap(result.snapshot.tree)).pack)

        let counting = TogetherListingBackend(f.backend)
        let report = try check(counting)
        XCTAssertFalse(report.isHealthy)
        XCTAssertTrue(report.findings.contains { $0.kind == .packMissing }, report.summary)
        XCTAssertEqual(counting.count("list data"), 1, "the index file and snapshot were just written: listed again")
    }

    // When every snapshot and index file is older than the check's lock, nothing in them can
    // have been written during the listing: damage is reported after one look.
    func testOldFilesAreNotCheckedAgain() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let result = try f.backup()
        try f.delete(try f.location(of: try XCTUnwrap(result.snapshot.tree)).pack)
        try backdateIndexAndSnapshots(f)

        let counting = TogetherListingBackend(f.backend)
        let report = try check(counting)
        XCTAssertFalse(report.isHealthy)
        XCTAssertEqual(counting.count("together"), 1)
        XCTAssertEqual(counting.count("list data"), 0)
        XCTAssertEqual(counting.count("list snapshots"), 0)
    }

    // Folders listed one by one, in the order asked (every provider but S3), are never torn.
    func testListingsInOrderAreNotTorn() throws {
        let f = try CheckFixture()
        let repository = try f.open()
        let locked = try RepositoryLock.withListing(kind: .backup, repository: repository, hostname: "h",
                                                    listing: [.snapshots, .index, .data])
        defer { locked.lock.release() }
        XCTAssertTrue(locked.listing.inRequestedOrder)
        XCTAssertNotNil(locked.lockTime, "a local listing has times")
        XCTAssertEqual(Set(locked.listing.files.keys), [.locks, .snapshots, .index, .data])
        XCTAssertFalse(locked.mayBeTorn(by: [.snapshots, .index]))
    }

    private func backup(_ f: CheckFixture, on backend: Backend) throws -> BackupResult {
        var options = BackupOptions(paths: [PathBytes.display(f.src)], hostname: "test-host", username: "tester")
        options.workers = 2
        return try Archiver(repository: try Repository.open(backend: backend, password: testPassword), options: options).run()
    }

    // A backup lists locks/, snapshots/ and index/ in one listing after its lock, and no folder again.
    func testBackupListsItsFoldersOnceTogether() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let first = try f.backup()
        let counting = TogetherListingBackend(f.backend)
        let second = try backup(f, on: counting)
        XCTAssertEqual(second.snapshot.parent, first.id)
        XCTAssertEqual(counting.count("together"), 1)
        for kind in ["locks", "snapshots", "index", "data"] { XCTAssertEqual(counting.count("list \(kind)"), 0, kind) }
    }

    // A snapshot listed without its index file (written while the folders were listed) is a
    // parent whose blobs look new: they are stored again, and the new snapshot is whole.
    func testBackupWithAParentWhoseIndexWasMissedStoresItsBlobsAgain() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let first = try f.backup()
        let indexFiles = try f.backend.list(.index).map { ($0.file, try f.backend.read($0.file)) }
        for (file, _) in indexFiles { try f.backend.delete(file) }
        let second = try backup(f, on: writingBack(indexFiles, after: .index, on: f.backend))
        XCTAssertEqual(second.snapshot.parent, first.id)
        // The source's folder, not the root: the folders above it (/tmp) change whenever
        // another process makes a file there.
        let repository = try Repository.open(backend: f.backend, password: testPassword)
        try repository.loadIndex()
        let walker = TreeWalker(repository: repository)
        func source(_ root: BlobID) throws -> BlobID? {
            var found: BlobID?
            try walker.walk(root, under: f.src, levels: 1) { path, node in if path == f.src { found = node.subtree } }
            return found
        }
        XCTAssertNotNil(try source(first.snapshot.tree))
        XCTAssertEqual(try source(second.snapshot.tree), try source(first.snapshot.tree))
        XCTAssertGreaterThan(second.snapshot.summary?.dataBlobsAdded ?? 0, 0, "the blobs were stored again")
        let report = try f.check()
        XCTAssertTrue(report.isHealthy, report.summary)
    }

    /// Resolves `latest` and loads the index as restore, dump, ls and diff do.
    private func resolveLatest(on backend: Backend) throws -> (Repository, SnapshotReference) {
        let repository = try Repository.open(backend: backend, password: testPassword)
        let reference = try SnapshotReference.resolve(["latest"], in: repository) { try repository.loadIndex(listed: $0) }[0]
        return (repository, reference)
    }

    // A backup that ends while a reader lists index/ and then snapshots/ together (S3's key
    // order) shows its snapshot without its index file. The reader lists index/ again once it
    // has chosen that new snapshot, so its trees are found.
    func testAReaderChoosingANewSnapshotListsTheIndexAgain() throws {
        let f = try CheckFixture()
        let (second, held) = try holdSecondBackup(f, seed: 78)
        XCTAssertTrue(held.contains { $0.0.kind == .index } && held.contains { $0.0.kind == .snapshots })
        let together = writingBack(held, after: .index, on: f.backend, began: Date().timeIntervalSince1970 - 60)
        let (repository, reference) = try resolveLatest(on: together)
        XCTAssertEqual(reference.record.id, second.id)
        XCTAssertNotNil(repository.index.lookup(try XCTUnwrap(second.snapshot.tree)), "the new snapshot's index file was loaded")
        XCTAssertEqual(together.count("together"), 1)
        XCTAssertEqual(together.count("list index"), 1, "listed again alone")
        XCTAssertEqual(together.count("list snapshots"), 0)
    }

    // A snapshot stored well before the listing began had its index files in place for the
    // whole listing: a reader uses the one listing.
    func testAReaderChoosingAnOldSnapshotListsOnce() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let result = try f.backup()
        try backdateIndexAndSnapshots(f)
        let together = TogetherListingBackend(f.backend, began: Date().timeIntervalSince1970)
        let (repository, reference) = try resolveLatest(on: together)
        XCTAssertEqual(reference.record.id, result.id)
        XCTAssertNotNil(repository.index.lookup(try XCTUnwrap(result.snapshot.tree)))
        XCTAssertEqual(together.count("together"), 1)
        XCTAssertEqual(together.count("list index"), 0)

        // Without a time for the listing's start, the same snapshot cannot be judged.
        let unknown = TogetherListingBackend(f.backend)
        _ = try resolveLatest(on: unknown)
        XCTAssertEqual(unknown.count("list index"), 1)
    }
}
