import Foundation
import XCTest

/// `snap snapshots --latest N`, `--group-by` and `--compact`, as restic's flags.
final class SnapshotsListingTests: XCTestCase {
    private var work = ""
    private var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("snapshots")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw"])
        try snap.expect(0, ["init"])
        for name in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: "\(work)/\(name)", withIntermediateDirectories: false)
            try name.write(toFile: "\(work)/\(name)/file", atomically: false, encoding: .utf8)
        }
        // Host one backs up a three times, host two b three times.
        for day in 1...3 {
            try snap.expect(0, ["backup", "\(work)/a", "-q", "--host", "one", "--time", "2024-01-0\(day)T00:00:00Z"])
            try snap.expect(0, ["backup", "\(work)/b", "-q", "--host", "two", "--tag", "t", "--time", "2024-02-0\(day)T00:00:00Z"])
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func json(_ arguments: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["snapshots", "--json"] + arguments).stdout.utf8))
    }

    func testLatestKeepsTheLastOfEachHostAndPaths() throws {
        let list = try XCTUnwrap(try json(["--latest", "1"]) as? [[String: Any]])
        XCTAssertEqual(list.map { "\($0["hostname"] as? String ?? "") \(($0["time"] as? String ?? "").prefix(10))" },
                       ["one 2024-01-03", "two 2024-02-03"])
        XCTAssertEqual(try snap.run(["snapshots", "--latest", "0"]).status, 64)
    }

    func testGroupByListsEachGroupWithItsKey() throws {
        let groups = try XCTUnwrap(try json(["--group-by", "host", "--latest", "2"]) as? [[String: Any]])
        XCTAssertEqual(groups.count, 2)
        let key = try XCTUnwrap(groups.first?["group_key"] as? [String: Any])
        XCTAssertEqual(key["hostname"] as? String, "one")
        XCTAssertTrue(key["paths"] is NSNull, "not grouped by paths: null, as restic")
        XCTAssertEqual((groups.first?["snapshots"] as? [Any])?.count, 2)

        let text = try snap.expect(0, ["snapshots", "-g", "host,tags", "-c"]).stdout
        XCTAssertTrue(text.contains("snapshots for host one, tags []:"), text)
        XCTAssertTrue(text.contains("snapshots for host two, tags [t]:"), text)
        XCTAssertFalse(text.contains("Paths"), "compact: no paths column")
        XCTAssertFalse(text.contains("\(work)/a"), text)
        XCTAssertEqual(try snap.run(["snapshots", "--group-by", "colour"]).status, 64)
    }
}
