import XCTest
import SnapCore
@testable import SnapEngine

final class SnapshotListingTests: XCTestCase {
    private func record(_ n: UInt64, host: String, paths: [String]) -> SnapshotRecord {
        let snapshot = Snapshot(time: "2024-01-01T00:00:0\(n)Z", hostname: host, username: "u", uid: 0, gid: 0, paths: paths, tags: [],
                                excludes: [], parent: nil, tree: TreeSamples.id(2), summary: nil, programVersion: snapVersion)
        return SnapshotRecord(id: SnapshotID(raw: RawID(w0: n, w1: 0, w2: 0, w3: 0)), snapshot: snapshot)
    }

    // Every group of `at/TIME/` has a folder of its own: hosts that cannot be folder names
    // share `unknown-host` numbered like a host's groups, and a host whose name is another
    // group's numbered name does not take that name.
    func testPointInTimeFolderNamesAreUnique() {
        let records = [
            record(1, host: "a/b", paths: ["/x"]), record(2, host: "..", paths: ["/x"]), record(3, host: "unknown-host", paths: ["/y"]),
            record(4, host: "web", paths: ["/a"]), record(5, host: "web", paths: ["/b"]), record(6, host: "web~1", paths: ["/c"]),
            record(7, host: "solo", paths: ["/d"]),
        ]
        let listing = SnapshotListing(records: records, template: SnapshotListing.defaultTemplate)
        let names = listing.pointInTime(Timestamp(seconds: 2_000_000_000, nanoseconds: 0)).map(\.name)
        XCTAssertEqual(names.count, 7, "\(names)")
        XCTAssertEqual(Set(names).count, 7, "\(names)")
        XCTAssertTrue(names.contains("solo"))
        XCTAssertTrue(["web~1", "web~2"].allSatisfy(names.contains), "\(names)")
        XCTAssertEqual(names.filter { $0.hasPrefix("unknown-host~") }.count, 3, "\(names)")
    }

    // The made-up folders take the newest snapshot's time; without snapshots, the time of
    // the listing, not 1970.
    func testFolderTimeIsTheNewestSnapshotsOrNow() {
        let listing = SnapshotListing(records: [record(1, host: "a", paths: ["/x"]), record(3, host: "b", paths: ["/y"])],
                                      template: SnapshotListing.defaultTemplate)
        XCTAssertEqual(listing.newest, Timestamp(seconds: 1_704_067_203, nanoseconds: 0))
        let empty = SnapshotListing(records: [], template: SnapshotListing.defaultTemplate)
        XCTAssertLessThan(abs(empty.newest.seconds - WallClock.now.seconds), 60)
    }
}
