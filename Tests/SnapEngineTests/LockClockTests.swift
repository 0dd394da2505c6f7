import Foundation
import SnapCore
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

/// Lists without file times, as a REST server's listing does.
private final class UntimedListing: ForwardingBackend, @unchecked Sendable {
    override func list(_ kind: FileKind) throws -> [FileInfo] { try base.list(kind).map { FileInfo(file: $0.file, size: $0.size) } }
}

/// `RepositoryLock` measures this host's clock against the storage's from the time of the
/// lock it has just written: taken from the scan of `locks/` that follows when the caller
/// asks for one, and from a `stat` otherwise or when the listing has no times.
final class LockClockTests: XCTestCase {
    /// A lock written (with its scan when `scan`), and the requests that took.
    private func lock(on backend: Backend, scan: Bool) throws -> (RepositoryLock, CoordinationScan?, RequestCounts) {
        let counting = CountingBackend(backend)
        let repository = try Repository.open(backend: counting, password: testPassword)
        let before = counting.counts
        let locked = scan ? try RepositoryLock.withScan(kind: .backup, repository: repository, hostname: "clock-host")
                          : (try RepositoryLock(kind: .backup, repository: repository, hostname: "clock-host"), nil)
        var made = counting.counts
        for kind in RequestKind.allCases { made.requests[kind] = made[kind] - before[kind] }
        return (locked.0, locked.1, made)
    }

    func testScanGivesTheLocksTimeWithoutAStat() throws {
        let folder = try TemporaryDirectory(prefix: "snap-lock-clock")
        defer { folder.remove() }
        let local = LocalBackend(root: folder.path)
        _ = try makeEngineRepository(on: local)

        let (scanned, scan, withScan) = try lock(on: local, scan: true)
        XCTAssertEqual(withScan[.stat], 0, "the time came from the listing")
        XCTAssertEqual(withScan[.list], 1)
        XCTAssertEqual(withScan[.write], 1)
        let offset = try XCTUnwrap(scanned.clockOffset)
        XCTAssertLessThan(abs(offset), 5, "a file system shares this host's clock")
        XCTAssertEqual(scan?.files.count, 1, "the scan holds the lock itself")
        scanned.release()

        let (plain, _, without) = try lock(on: local, scan: false)
        XCTAssertEqual(without[.stat], 1)
        XCTAssertEqual(without[.list], 0)
        XCTAssertNotNil(plain.clockOffset)
        plain.release()

        // A listing without times: the lock's own time is asked for with a stat (and no other lock is there).
        let (untimed, _, counts) = try lock(on: UntimedListing(local), scan: true)
        defer { untimed.release() }
        XCTAssertEqual(counts[.stat], 1)
        XCTAssertNotNil(untimed.clockOffset)
    }
}
