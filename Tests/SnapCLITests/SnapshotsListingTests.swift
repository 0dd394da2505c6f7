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
        XCTAssertEqual(try XCTUnwrap(try json(["--latest", "0"]) as? [[String: Any]]).count, 6, "0: all, as restic")
        XCTAssertEqual(try snap.run(["snapshots", "--latest", "-1"]).status, 64)
    }

    // The summary carries restic 0.17's names beside snap's: the first backup of `a` read
    // one file of one byte, new.
    func testSummaryHasResticsNames() throws {
        let list = try XCTUnwrap(try json([]) as? [[String: Any]])
        let summary = try XCTUnwrap(list.first?["summary"] as? [String: Any])
        XCTAssertEqual(summary["files_new"] as? Int, 1)
        XCTAssertEqual(summary["files_unmodified"] as? Int, 0)
        XCTAssertEqual(summary["total_files_processed"] as? Int, 1)
        XCTAssertEqual(summary["total_bytes_processed"] as? Int, 1)
        XCTAssertEqual(summary["backup_start"] as? String, list.first?["time"] as? String)
        let end = try XCTUnwrap(summary["backup_end"] as? String)
        XCTAssertTrue(end.hasPrefix("2024-01-01T00:0") && end.hasSuffix("Z"), "the --time given, plus the backup's duration: \(end)")
        for key in ["data_blobs", "tree_blobs", "data_added", "data_added_packed"] { XCTAssertTrue(summary[key] is Int, key) }
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

    // As restic's, --latest N keeps the last N of each host and paths whatever --group-by
    // lists them by: grouped by tags, the untagged group holds host one's last 2 and host
    // two's last 2 (before: 2 in all). `--group-by ''` lists one plain array, as restic.
    func testLatestCountsHostAndPathsUnderAnyGrouping() throws {
        // Within each tags group: host two's oldest snapshot, tagged t and x, is the last of
        // its own group as well as the newest t-only one is of its.
        let oldest = try XCTUnwrap((try json(["--host", "two"]) as? [[String: Any]])?.first?["id"] as? String)
        try snap.expect(0, ["tag", "--add", "x", oldest, "-q"])
        let byTags = try XCTUnwrap(try json(["--group-by", "tags", "--latest", "1"]) as? [[String: Any]])
        XCTAssertEqual(byTags.map { (($0["snapshots"] as? [[String: Any]]) ?? []).count }, [1, 1, 1], "untagged, [t], [t, x]")
        try snap.expect(0, ["tag", "--set", "t", "--host", "two", "-q"])
        try snap.expect(0, ["tag", "--remove", "t", "--host", "two", "-q"])
        let groups = try XCTUnwrap(try json(["--group-by", "tags", "--latest", "2"]) as? [[String: Any]])
        XCTAssertEqual(groups.count, 1)
        let hosts = ((groups.first?["snapshots"] as? [[String: Any]]) ?? []).compactMap { $0["hostname"] as? String }
        XCTAssertEqual(hosts.sorted(), ["one", "one", "two", "two"])
        let plain = try XCTUnwrap(try json(["--group-by", "", "--latest", "1"]) as? [[String: Any]])
        XCTAssertEqual(plain.compactMap { $0["hostname"] as? String }, ["one", "two"])
    }

    // restic's short forms: -H for --host in the commands that filter snapshots (forget keeps
    // -H for --keep-hourly, as restic's), and a short option's value attached (-Hone).
    func testShortHostAndAttachedValues() throws {
        let list = try XCTUnwrap(try json(["-H", "one"]) as? [[String: Any]])
        XCTAssertEqual(Set(list.compactMap { $0["hostname"] as? String }), ["one"])
        let attached = try XCTUnwrap(try json(["-Htwo"]) as? [[String: Any]])
        XCTAssertEqual(Set(attached.compactMap { $0["hostname"] as? String }), ["two"])
        XCTAssertEqual(try snap.expect(0, ["ls", "-q", "-Hone", "latest", "\(work)/a/file"]).stdout, "\(work)/a/file\n")
        let hourly = try snap.expect(0, ["forget", "-H", "1", "--dry-run", "--json"]).stdout
        XCTAssertTrue(hourly.contains("hourly snapshot"), "-H is --keep-hourly in forget: \(hourly)")
        let oneGroup = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["forget", "-l", "1", "-g", "", "-n", "--json"]).stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(oneGroup.count, 1, "forget -g is --group-by, as restic's")
        try snap.expect(0, ["backup", "-q", "\(work)/a", "-efi*", "-Hthree"])
        // The word after an option that takes a value is its value, whatever it looks like.
        try "h".write(toFile: "\(work)/a/-Hx", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", "-q", "\(work)/a", "--exclude", "-Hx", "--tag", "-Hfoo", "--host", "four"])
        let four = try XCTUnwrap(try json(["--host", "four"]) as? [[String: Any]]).first
        XCTAssertEqual(four?["paths"] as? [String], ["\(work)/a"])
        XCTAssertEqual(four?["tags"] as? [String], ["-Hfoo"])
        XCTAssertFalse(try snap.expect(0, ["ls", "-q", "latest", "--host", "four"]).stdout.contains("-Hx"), "excluded")
        try FileManager.default.removeItem(atPath: "\(work)/a/-Hx")
        let three = try snap.expect(0, ["ls", "-q", "latest", "--host", "three"]).stdout
        XCTAssertTrue(three.hasSuffix("\(work)/a\n"), "backed up as host three, file left out by -efi*: \(three)")
    }

    // ls and dump take --host/--path/--tag to choose which snapshot `latest` is, as restic's.
    func testLatestOfAHostForLsAndDump() throws {
        let listed = try snap.expect(0, ["ls", "latest", "--host", "one"]).stdout
        XCTAssertTrue(listed.contains("\(work)/a/file"), listed)
        XCTAssertFalse(listed.contains("\(work)/b"), listed)
        XCTAssertEqual(try snap.expect(0, ["dump", "latest", "\(work)/b/file", "--tag", "t"]).stdout, "b")
        XCTAssertEqual(try snap.run(["ls", "latest", "--host", "three"]).status, 1, "no snapshot of that host")
    }

    // A name that matches nothing, given to a command that takes several snapshots, is
    // passed over with a warning and the others are handled, exit 0, as restic does: a
    // script asking whether a host has any backup gets `[]`, and a forget of several IDs
    // forgets those still there.
    func testNamesThatMatchNothingArePassedOver() throws {
        let none = try snap.expect(0, ["snapshots", "latest", "--host", "nothere", "--json"])
        XCTAssertEqual(try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(none.stdout.utf8)) as? [Any]).count, 0)
        XCTAssertTrue(none.stderr.contains("warning: ignoring 'latest': no snapshot matches"), none.stderr)

        let all = try XCTUnwrap(try json([]) as? [[String: Any]])
        let ids = all.compactMap { $0["id"] as? String }
        let listed = try snap.expect(0, ["snapshots", "00000000", String(ids[0].prefix(8))])
        XCTAssertTrue(listed.stdout.contains(String(ids[0].prefix(8))), listed.stdout)
        XCTAssertTrue(listed.stderr.contains("warning: ignoring '00000000'"), listed.stderr)

        let tagged = try snap.expect(0, ["tag", "--add", "x", "00000000", ids[1]])
        XCTAssertTrue(tagged.stderr.contains("ignoring '00000000'"), tagged.stderr)
        XCTAssertEqual(try XCTUnwrap(try json(["--tag", "x"]) as? [Any]).count, 1)

        let forgot = try snap.expect(0, ["forget", ids[0], "00000000"])
        XCTAssertTrue(forgot.stderr.contains("ignoring '00000000'"), forgot.stderr)
        XCTAssertEqual(try XCTUnwrap(try json([]) as? [Any]).count, all.count - 1, "the snapshot named was forgotten")
        XCTAssertEqual(try snap.run(["ls", "00000000"]).status, 1, "a command of one snapshot still fails")
    }

    // forget --prune passes --max-unused and --max-repack-size to its prune; without --prune they are refused.
    func testForgetPruneTakesRepackOptions() throws {
        XCTAssertEqual(try snap.run(["forget", "--keep-last", "1", "--max-unused", "0"]).status, 64)
        let pruned = try snap.expect(0, ["forget", "--keep-last", "1", "--prune", "--max-unused", "0", "--max-repack-size", "1G"]).stdout
        XCTAssertTrue(pruned.contains("running prune"), pruned)
        XCTAssertEqual(try snap.run(["prune", "--max-unused", "lots"]).status, 64)
        try snap.expect(0, ["check", "--read-data"])
    }
}
