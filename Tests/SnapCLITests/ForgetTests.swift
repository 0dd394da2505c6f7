import Foundation
import SnapTestSupport
import XCTest

/// End-to-end: `forget` by policy (dry run, then for real), by ID, and its refusals.
final class ForgetTests: XCTestCase {
    private var work = ""
    private var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("forget")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/data", withIntermediateDirectories: false)
        try "content".write(toFile: "\(work)/data/file.txt", atomically: false, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// `snapshots --json` as "host time" strings, sorted.
    private func snapshotList() throws -> [String] {
        let list = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["snapshots", "--json"]).stdout.utf8)) as? [[String: Any]])
        return list.map { "\($0["hostname"] as? String ?? "?") \($0["time"] as? String ?? "?")" }.sorted()
    }

    private func ids() throws -> [String: String] {
        let list = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["snapshots", "--json"]).stdout.utf8)) as? [[String: Any]])
        return Dictionary(list.map { ("\($0["hostname"] as? String ?? "?") \($0["time"] as? String ?? "?")", $0["id"] as? String ?? "") },
                          uniquingKeysWith: { a, _ in a })
    }

    /// 29 snapshots in three groups. Group alpha + data: 20 days at 10:00Z (1–20 May 2024;
    /// 20 May is a Monday), 08:00 and 09:00 on 20 May, 23:00 on 19 May, and four older ones.
    /// keep-daily 3 keeps 20 May 10:00, 19 May 23:00, 18 May 10:00; keep-weekly 2 keeps the
    /// newest of the week of Monday 20 May and of the week of Monday 13 May (19 May 23:00),
    /// both already kept. The other two groups have one snapshot each, which stays.
    func testPolicyDryRunThenForReal() throws {
        var alpha = (1...20).map { String(format: "2024-05-%02dT10:00:00Z", $0) }
        alpha += ["2024-05-20T08:00:00Z", "2024-05-20T09:00:00Z", "2024-05-19T23:00:00Z",
                  "2024-04-01T10:00:00Z", "2024-04-15T10:00:00Z", "2024-03-03T10:00:00Z", "2023-12-25T10:00:00Z"]
        for time in alpha { try snap.expect(0, ["backup", "\(work)/data", "--time", time, "--host", "alpha", "-q"]) }
        try snap.expect(0, ["backup", "\(work)/data", "--time", "2024-01-01T00:00:00Z", "--host", "beta", "-q"])
        try snap.expect(0, ["backup", "\(work)/data/file.txt", "--time", "2024-05-10T12:00:00Z", "--host", "alpha", "-q"])
        let before = try snapshotList()
        XCTAssertEqual(before.count, 29)

        let dry = try snap.expect(0, ["forget", "--keep-daily", "3", "--keep-weekly", "2", "--dry-run", "--json"])
        let groups = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [[String: Any]], dry.stdout)
        struct Group: Equatable { var host: String?; var paths: [String]?; var keep: [String]; var reasons: [[String]]; var removed: Int }
        let decoded = groups.map { g -> Group in
            let key = g["group_key"] as? [String: Any] ?? [:]
            let keep = g["keep"] as? [[String: Any]] ?? []
            return Group(host: key["hostname"] as? String, paths: key["paths"] as? [String],
                         keep: keep.map { $0["time"] as? String ?? "?" }, reasons: keep.map { $0["reasons"] as? [String] ?? [] },
                         removed: (g["remove"] as? [Any])?.count ?? -1)
        }
        XCTAssertEqual(decoded, [
            Group(host: "alpha", paths: ["\(work)/data"], keep: ["2024-05-18T10:00:00Z", "2024-05-19T23:00:00Z", "2024-05-20T10:00:00Z"],
                  reasons: [["daily snapshot"], ["daily snapshot", "weekly snapshot"], ["daily snapshot", "weekly snapshot"]], removed: 24),
            Group(host: "alpha", paths: ["\(work)/data/file.txt"], keep: ["2024-05-10T12:00:00Z"],
                  reasons: [["daily snapshot", "weekly snapshot"]], removed: 0),
            Group(host: "beta", paths: ["\(work)/data"], keep: ["2024-01-01T00:00:00Z"],
                  reasons: [["daily snapshot", "weekly snapshot"]], removed: 0),
        ])
        XCTAssertTrue(groups.allSatisfy { ($0["group_key"] as? [String: Any])?["tags"] is NSNull }, "tags are not part of the default grouping")
        // restic's keys for the same: host, paths, tags, and reasons as {snapshot, matches}.
        for (group, expected) in zip(groups, decoded) {
            XCTAssertEqual(group["host"] as? String, expected.host)
            XCTAssertEqual(group["paths"] as? [String], expected.paths)
            XCTAssertTrue(group["tags"] is NSNull)
            let reasons = try XCTUnwrap(group["reasons"] as? [[String: Any]])
            XCTAssertEqual(reasons.map { ($0["snapshot"] as? [String: Any])?["time"] as? String ?? "?" }, expected.keep)
            XCTAssertEqual(reasons.map { $0["matches"] as? [String] ?? [] }, expected.reasons)
        }
        XCTAssertEqual(try snapshotList(), before, "a dry run removes nothing")

        let text = try snap.expect(0, ["forget", "--keep-daily", "3", "--keep-weekly", "2", "--dry-run", "--prune"])
        XCTAssertTrue(text.stdout.contains("keep 3 snapshots:"), text.stdout)
        XCTAssertTrue(text.stdout.contains("remove 24 snapshots:"), text.stdout)
        XCTAssertTrue(text.stdout.contains("would remove 24 snapshots (dry run)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("dry run: the prune after removing 24 snapshots would do:"), text.stdout)
        XCTAssertEqual(try snapshotList(), before, "nor does its prune estimate")

        let real = try snap.expect(0, ["forget", "--keep-daily", "3", "--keep-weekly", "2"])
        XCTAssertTrue(real.stdout.contains("removed 24 snapshots"), real.stdout)
        XCTAssertEqual(try snapshotList(), ["alpha 2024-05-10T12:00:00Z", "alpha 2024-05-18T10:00:00Z", "alpha 2024-05-19T23:00:00Z",
                                            "alpha 2024-05-20T10:00:00Z", "beta 2024-01-01T00:00:00Z"])

        // Applying the same policy again changes nothing.
        let again = try snap.expect(0, ["forget", "--keep-daily", "3", "--keep-weekly", "2", "--json"])
        let againGroups = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [[String: Any]])
        XCTAssertTrue(againGroups.allSatisfy { ($0["remove"] as? [Any])?.isEmpty == true })
        XCTAssertEqual(try snapshotList().count, 5)
    }

    // forget --prune --dry-run shows what the prune after the forget would free, as restic
    // does (a dry run of prune counting the snapshots as gone), and changes nothing.
    func testPruneDryRunEstimatesWhatTheForgetFrees() throws {
        for version in 1...3 {
            try Data(seededBytes(count: 300_000, seed: UInt64(version))).write(to: URL(fileURLWithPath: "\(work)/data/v.bin"))
            try snap.expect(0, ["backup", "\(work)/data", "-q"])
        }
        func repositoryFiles() -> [String] { (FileManager.default.enumerator(atPath: "\(work)/repo")?.allObjects as? [String] ?? []).sorted() }
        let before = repositoryFiles()
        let dry = try snap.expect(0, ["forget", "--keep-last", "1", "--prune", "--dry-run"]).stdout
        XCTAssertTrue(dry.contains("dry run: the prune after removing 2 snapshots would do:"), dry)
        XCTAssertTrue(dry.contains("1 snapshots use"), "the kept snapshot only: \(dry)")
        let condemned = try XCTUnwrap(dry.split(separator: "\n").first { $0.hasPrefix("would condemn") }, dry)
        XCTAssertFalse(condemned.hasPrefix("would condemn 0 packs"), "the forgotten versions' packs: \(dry)")
        XCTAssertEqual(repositoryFiles(), before, "a dry run changes nothing")
    }

    /// Tags are trimmed as restic trims them, in backup, tag, the filters and `--keep-tag`:
    /// `--keep-tag 'monthly, yearly'` keeps the snapshots tagged so (it looked for " yearly").
    func testTagsWithSpacesAfterCommas() throws {
        try snap.expect(0, ["backup", "\(work)/data", "-q", "--tag", "monthly, yearly"])
        try snap.expect(0, ["backup", "\(work)/data", "-q", "--force"])
        try snap.expect(0, ["tag", "--add", " extra , more", "latest"])
        let tags = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["snapshots", "--json"]).stdout.utf8)) as? [[String: Any]])
            .map { $0["tags"] as? [String] ?? [] }
        XCTAssertEqual(tags, [["monthly", "yearly"], ["extra", "more"]])
        XCTAssertTrue(try snap.expect(0, ["snapshots", "--tag", "yearly, monthly"]).stdout.contains("1 snapshots"))
        let plan = try snap.expect(0, ["forget", "--keep-tag", "monthly, yearly", "--keep-last", "1", "--dry-run", "--json"]).stdout
        let groups = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(plan.utf8)) as? [[String: Any]])
        XCTAssertEqual(groups.flatMap { $0["remove"] as? [[String: Any]] ?? [] }.count, 0, "the tagged snapshot is kept: \(plan)")
    }

    /// restic's `--max-unused unlimited`: a pack half unused is kept as it is, where `0`
    /// repacks it; restic's byte sizes are refused, since snap's limit is a share of each pack.
    func testMaxUnusedUnlimitedRepacksNothing() throws {
        try Data(seededBytes(count: 300_000, seed: 1)).write(to: URL(fileURLWithPath: "\(work)/data/gone.bin"))
        try snap.expect(0, ["backup", "\(work)/data", "-q"])
        try FileManager.default.removeItem(atPath: "\(work)/data/gone.bin")
        try snap.expect(0, ["backup", "\(work)/data", "-q"])
        try snap.expect(0, ["forget", "--keep-last", "1", "-q"])
        func repacked(_ limit: String) throws -> Int? {
            let json = try snap.expect(0, ["prune", "--dry-run", "--json", "--max-unused", limit]).stdout
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])["packs_repacked"] as? Int
        }
        XCTAssertEqual(try repacked("0"), 1, "the pack holding file.txt and the forgotten gone.bin")
        XCTAssertEqual(try repacked("unlimited"), 0)
        let size = try snap.run(["prune", "--max-unused", "1G"])
        XCTAssertEqual(size.status, 64, size.stderr)
        XCTAssertTrue(size.stderr.contains("a share of each pack"), size.stderr)
    }

    /// Days follow each snapshot's stored offset, not the zone of the machine running
    /// forget: 23:30 and 00:30 at +02:00 are two days, although both are 20 May in UTC.
    // -c/--compact leaves the paths column out of both tables, reasons kept.
    func testCompactTables() throws {
        for time in ["2024-05-01T10:00:00Z", "2024-05-02T10:00:00Z"] {
            try snap.expect(0, ["backup", "\(work)/data", "--time", time, "-q"])
        }
        let full = try snap.expect(0, ["forget", "--keep-last", "1", "--dry-run"]).stdout
        XCTAssertTrue(full.contains("Paths") && full.contains("\(work)/data"), full)
        let compact = try snap.expect(0, ["forget", "--keep-last", "1", "--dry-run", "-c"]).stdout
        XCTAssertFalse(compact.contains("Paths") || compact.contains("\(work)/data\n"), compact)
        XCTAssertTrue(compact.contains("Reasons") && compact.contains("last snapshot"), compact)
        XCTAssertEqual(compact.components(separatedBy: "ID        Time").count, 3, "two tables: \(compact)")
        XCTAssertTrue(compact.contains("would remove 1 snapshots (dry run)"), compact)
    }

    func testDaysFollowTheSnapshotsOffset() throws {
        let berlin = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw", "TZ": "CET-1CEST,M3.5.0,M10.5.0/3"])
        for time in ["2024-05-20T20:00:00Z", "2024-05-20T21:30:00Z", "2024-05-20T22:30:00Z"] {
            try berlin.expect(0, ["backup", "\(work)/data", "--time", time, "--host", "alpha", "-q"])
        }
        XCTAssertEqual(try snapshotList(), ["alpha 2024-05-20T22:00:00+02:00", "alpha 2024-05-20T23:30:00+02:00", "alpha 2024-05-21T00:30:00+02:00"])
        try snap.expect(0, ["forget", "--keep-daily", "2"])  // run in UTC
        XCTAssertEqual(try snapshotList(), ["alpha 2024-05-20T23:30:00+02:00", "alpha 2024-05-21T00:30:00+02:00"])
    }

    func testForgetByIDAndRefusals() throws {
        for (time, host) in [("2024-01-01T00:00:00Z", "alpha"), ("2024-01-02T00:00:00Z", "alpha"), ("2024-01-03T00:00:00Z", "beta")] {
            try snap.expect(0, ["backup", "\(work)/data", "--time", time, "--host", host, "-q"])
        }
        try snap.expect(0, ["backup", "\(work)/data", "--time", "2024-01-04T00:00:00Z", "--host", "alpha", "--tag", "keep", "-q"])
        let all = try snapshotList()

        // No policy (none given, or only zeros, as a script's settings may give): said, as
        // restic says it, and nothing removed nor pruned, exit 0.
        for arguments in [["forget"], ["forget", "--keep-last", "0", "--prune"]] {
            let none = try snap.expect(0, arguments)
            XCTAssertTrue(none.stdout.contains("no policy was specified, no snapshots will be removed"), none.stdout)
            XCTAssertFalse(none.stdout.contains("prune"), none.stdout)
            XCTAssertEqual(try snapshotList(), all)
        }
        let unsafe = try snap.run(["forget", "--unsafe-allow-remove-all"])
        XCTAssertEqual(unsafe.status, 64)
        XCTAssertTrue(unsafe.stderr.contains("--unsafe-allow-remove-all is not allowed unless a snapshot filter"), unsafe.stderr)
        // A policy that would empty a group is refused before anything is deleted.
        let empty = try snap.run(["forget", "--keep-tag", "missing"])
        XCTAssertEqual(empty.status, 1)
        XCTAssertTrue(empty.stderr.contains("refusing to delete last snapshot of snapshot group"), empty.stderr)
        for bad in [["forget", "--keep-within", "2w"], ["forget", "--keep-daily", "-2"], ["forget", "--group-by", "time", "--keep-last", "1"],
                    ["forget", "abcdef", "--keep-last", "1"]] {
            XCTAssertEqual(try snap.run(bad).status, 64, bad.joined(separator: " "))
        }
        XCTAssertEqual(try snapshotList(), all)

        // By ID: a unique prefix names one snapshot; a dry run only reports it.
        let ids = try self.ids()
        let first = try XCTUnwrap(ids["alpha 2024-01-01T00:00:00Z"])
        let dry = try snap.expect(0, ["forget", String(first.prefix(10)), "--dry-run"])
        XCTAssertTrue(dry.stdout.contains("would remove snapshot \(first.prefix(8))"), dry.stdout)
        XCTAssertEqual(try snapshotList(), all)
        let real = try snap.expect(0, ["forget", String(first.prefix(10))])
        XCTAssertTrue(real.stdout.contains("removed snapshot \(first.prefix(8))"), real.stdout)
        XCTAssertEqual(try snapshotList(), ["alpha 2024-01-02T00:00:00Z", "alpha 2024-01-04T00:00:00Z", "beta 2024-01-03T00:00:00Z"])
        // An unknown ID is passed over with a warning, as restic does.
        let unknown = try snap.expect(0, ["forget", "ffffffffffff"])
        XCTAssertTrue(unknown.stderr.contains("warning: ignoring 'ffffffffffff'"), unknown.stderr)
        XCTAssertEqual(try snapshotList(), ["alpha 2024-01-02T00:00:00Z", "alpha 2024-01-04T00:00:00Z", "beta 2024-01-03T00:00:00Z"])

        // With a filter, everything it selects may be removed on request; --tag '' selects untagged snapshots only.
        try snap.expect(0, ["forget", "--unsafe-allow-remove-all", "--host", "beta"])
        XCTAssertEqual(try snapshotList(), ["alpha 2024-01-02T00:00:00Z", "alpha 2024-01-04T00:00:00Z"])
        try snap.expect(0, ["forget", "--unsafe-allow-remove-all", "--tag", ""])
        XCTAssertEqual(try snapshotList(), ["alpha 2024-01-04T00:00:00Z"])
    }

    /// A snapshot file that cannot be read (one byte flipped) stops prune; `forget ID` removes
    /// it unread, with a warning, and prune runs again.
    func testForgetRemovesADamagedSnapshotFile() throws {
        try snap.expect(0, ["backup", "\(work)/data", "-q"])
        try snap.expect(0, ["backup", "\(work)/data", "--force", "-q"])
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/snapshots").sorted()
        XCTAssertEqual(names.count, 2)
        let path = "\(work)/repo/snapshots/\(names[0])"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try snap.run(["prune"]).status, 1)

        let dry = try snap.expect(0, ["forget", String(names[0].prefix(8)), "--dry-run"])
        XCTAssertTrue(dry.stderr.contains("would be removed unread"), dry.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        let removed = try snap.expect(0, ["forget", String(names[0].prefix(8))])
        XCTAssertTrue(removed.stderr.contains("snapshot \(names[0].prefix(8)) cannot be read"), removed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        try snap.expect(0, ["prune"])
        try snap.expect(0, ["check"])
    }
}
