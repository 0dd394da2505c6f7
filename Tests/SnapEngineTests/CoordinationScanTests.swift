import Synchronization
import XCTest
import SnapCore
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// Runs `afterListing` once, right after the first listing of `locks/` returns: what another
/// process does between a scan's listing and its reads.
private final class ChangingLocksBackend: ForwardingBackend, @unchecked Sendable {
    private let afterListing = Mutex<(@Sendable () -> Void)?>(nil)
    private let listings = Mutex(0)

    init(_ base: Backend, afterListing: @escaping @Sendable () -> Void) {
        self.afterListing.withLock { $0 = afterListing }
        super.init(base)
    }

    var locksListings: Int { listings.withLock { $0 } }

    override func list(_ kind: FileKind) throws -> [FileInfo] {
        let listed = try base.list(kind)
        guard kind == .locks else { return listed }
        listings.withLock { $0 += 1 }
        afterListing.withLock { hook in hook?(); hook = nil }
        return listed
    }
}

/// `Coordination.scan` and files of `locks/` that vanish between its listing and its reads.
final class CoordinationScanTests: XCTestCase {
    private static func mark(_ packs: [PackID], waitFor: [CoordinationRecord.Holder]? = nil) -> CoordinationRecord {
        var record = CoordinationRecord(kind: .deletion, hostname: "pruner", pid: 7, created: WallClock.nowText,
                                        refreshed: WallClock.nowText, packs: packs)
        record.waitFor = waitFor
        return record
    }

    // A prune settles its mark (writes the settled copy, then deletes the first) after a
    // backup listed locks/ and before it read the mark: the scan lists again and finds the
    // settled copy, so the backup still leaves the condemned packs alone.
    func testAMarkSettledDuringTheScanIsFound() throws {
        let base = MemoryBackend()
        let writer = try makeEngineRepository(on: base)
        let condemned = try XCTUnwrap(PackID(hex: String(repeating: "c4", count: 32)))
        let unsettled = try Coordination.write(Self.mark([condemned]), in: writer)
        let changing = ChangingLocksBackend(base) {
            _ = try? Coordination.write(CoordinationScanTests.mark([condemned], waitFor: []), in: writer)
            try? base.delete(FileName(.locks, unsettled.hex))
        }
        let reader = try Repository.open(backend: changing, password: testPassword)
        let scan = try Coordination.scan(reader)
        XCTAssertEqual(try scan.condemnedPacks(action: "test"), [condemned])
        XCTAssertEqual(changing.locksListings, 2, "listed again after a file vanished")
    }

    // A lock released during the scan is gone: left out, after one more listing.
    func testALockReleasedDuringTheScanIsLeftOut() throws {
        let base = MemoryBackend()
        let writer = try makeEngineRepository(on: base)
        let lock = try Coordination.write(CoordinationRecord(kind: .backup, hostname: "other", pid: 8, created: WallClock.nowText,
                                                             refreshed: WallClock.nowText), in: writer)
        let changing = ChangingLocksBackend(base) { try? base.delete(FileName(.locks, lock.hex)) }
        let scan = try Coordination.scan(try Repository.open(backend: changing, password: testPassword))
        XCTAssertTrue(scan.files.isEmpty)
        XCTAssertTrue(scan.unreadable.isEmpty)
        XCTAssertEqual(changing.locksListings, 2)
    }
}
