import SnapEngine
import XCTest

/// `--group-by`, `--keep-tag`, empty policies and ties.
final class RetentionGroupingTests: XCTestCase {
    /// 1–7 as numbered below; paths [/etc, /home] and [/home, /etc] are the same set.
    private let mixed: RetentionFixture = {
        var f = RetentionFixture()
        f.add("2024-01-01T10:00:00Z", host: "alpha", paths: ["/home"])                    // 1
        f.add("2024-01-02T10:00:00Z", host: "alpha", paths: ["/home"])                    // 2
        f.add("2024-01-03T10:00:00Z", host: "alpha", paths: ["/etc", "/home"], tags: ["x"])  // 3
        f.add("2024-01-04T10:00:00Z", host: "alpha", paths: ["/home", "/etc"])            // 4
        f.add("2024-01-05T10:00:00Z", host: "beta", paths: ["/home"], tags: ["x"])        // 5
        f.add("2024-01-06T10:00:00Z", host: "beta", paths: ["/home"], tags: ["x"])        // 6
        f.add("2024-01-07T10:00:00Z", host: "beta", paths: ["/srv"])                      // 7
        return f
    }()

    /// For each group (in key order): its key and the day of the month of each survivor of keep-last 1.
    private func lastPerGroup(_ grouping: String) throws -> [String] {
        let plan = Retention.plan(policy { $0.keepLast = 1 }, for: mixed.snapshots, groupedBy: try SnapshotGrouping(parsing: grouping),
                                  now: instant(RetentionFixture.defaultNow))
        return plan.map { group in "\(group.key): " + group.outcome.keep.map { String(mixed.text($0.snapshot).dropFirst(8).prefix(2)) }.joined() }
    }

    func testGroupByVariants() throws {
        XCTAssertEqual(try lastPerGroup("host,paths"),
                       ["host alpha, paths [/etc, /home]: 04", "host alpha, paths [/home]: 02", "host beta, paths [/home]: 06", "host beta, paths [/srv]: 07"])
        XCTAssertEqual(try lastPerGroup(""), ["all snapshots: 07"])
        XCTAssertEqual(try lastPerGroup("host"), ["host alpha: 04", "host beta: 07"])
        XCTAssertEqual(try lastPerGroup("paths"), ["paths [/etc, /home]: 04", "paths [/home]: 06", "paths [/srv]: 07"])
        XCTAssertEqual(try lastPerGroup("tags"), ["tags []: 07", "tags [x]: 06"])
        XCTAssertEqual(try lastPerGroup("host,paths,tags"),
                       ["host alpha, paths [/etc, /home], tags []: 04", "host alpha, paths [/etc, /home], tags [x]: 03",
                        "host alpha, paths [/home], tags []: 02", "host beta, paths [/home], tags [x]: 06", "host beta, paths [/srv], tags []: 07"])
        XCTAssertEqual(try lastPerGroup("tags,host"), ["host alpha, tags []: 04", "host alpha, tags [x]: 03", "host beta, tags []: 07", "host beta, tags [x]: 06"])
    }

    func testGroupingParsing() throws {
        XCTAssertEqual(try SnapshotGrouping(parsing: "hosts,path,tag"), SnapshotGrouping(byHost: true, byPaths: true, byTags: true))
        XCTAssertEqual(try SnapshotGrouping(parsing: "host,,paths"), .hostAndPaths)
        XCTAssertEqual(try SnapshotGrouping(parsing: ","), SnapshotGrouping())
        XCTAssertEqual(try SnapshotGrouping(parsing: "tags,host").description, "host,tags")
        for bad in ["host,bogus", "Host", "host paths", "time"] {
            XCTAssertThrowsError(try SnapshotGrouping(parsing: bad), bad)
        }
    }

    func testGroupKeyLeavesUnusedPartsOut() {
        let key = SnapshotGrouping(byPaths: true).key(for: mixed.snapshots[3])
        XCTAssertEqual(key, SnapshotGroupKey(hostname: nil, paths: ["/etc", "/home"], tags: nil))
    }

    private let tagged = RetentionFixture.taggedDays([
        ["important"], ["a"], ["a", "b"], [], ["b"], ["important", "b"], ["daily"], ["daily"], ["daily"], ["daily"],
    ])

    func testKeepTag() {
        XCTAssertEqual(tagged.reasons(policy { $0.keepTags = ["important"] }).map { "\($0.0.prefix(10)) \($0.1)" },
                       ["2024-01-06 [\"tag: important\"]", "2024-01-01 [\"tag: important\"]"])
        XCTAssertEqual(tagged.kept(policy { $0.keepTags = ["a,b"] }), ["2024-01-03T12:00:00Z"])
        XCTAssertEqual(tagged.reasons(policy { $0.keepTags = ["a", "b"] }).map { "\($0.0.prefix(10)) \($0.1)" },
                       ["2024-01-06 [\"tag: b\"]", "2024-01-05 [\"tag: b\"]", "2024-01-03 [\"tag: a\", \"tag: b\"]", "2024-01-02 [\"tag: a\"]"])
        XCTAssertEqual(tagged.reasons(policy { $0.keepTags = [""] }).map { "\($0.0.prefix(10)) \($0.1)" }, ["2024-01-04 [\"untagged\"]"])
    }

    func testKeepTagWithOtherRules() {
        XCTAssertEqual(tagged.reasons(policy { $0.keepTags = ["important"]; $0.keepLast = 2 }).map { "\($0.0.prefix(10)) \($0.1)" },
                       ["2024-01-10 [\"last snapshot\"]", "2024-01-09 [\"last snapshot\"]", "2024-01-06 [\"tag: important\"]",
                        "2024-01-01 [\"tag: important\"]"])
    }

    /// A tag-only policy that matches nothing keeps nothing; `forget` refuses to run it.
    func testKeepTagMatchingNothing() {
        let outcome = tagged.outcome(policy { $0.keepTags = ["missing"] })
        XCTAssertTrue(outcome.keep.isEmpty)
        XCTAssertEqual(outcome.remove.count, 10)
    }

    func testEmptyPolicyKeepsEverything() {
        XCTAssertTrue(RetentionPolicy().isEmpty)
        XCTAssertFalse(policy { $0.keepTags = [""] }.isEmpty)
        XCTAssertFalse(policy { $0.keepLast = -1 }.isEmpty)
        let outcome = tagged.outcome(RetentionPolicy())
        XCTAssertEqual(outcome.keep.count, 10)
        XCTAssertTrue(outcome.keep.allSatisfy { $0.reasons == ["policy is empty"] })
        XCTAssertTrue(outcome.remove.isEmpty)
    }

    /// Equal times: the larger ID counts as newer.
    func testTiesGoToTheLargerID() {
        var fixture = RetentionFixture()
        fixture.add("2024-01-01T00:00:00Z", tags: ["first"])
        fixture.add("2024-01-01T00:00:00Z", tags: ["second"])
        let kept = fixture.outcome(policy { $0.keepLast = 1 }).keep
        XCTAssertEqual(kept.map(\.snapshot.tags), [["second"]])
    }

    func testPolicyDescription() {
        let p = policy {
            $0.keepLast = 2; $0.keepDaily = 7; $0.keepMonthly = -1
            $0.keepWithinWeekly = RetentionDuration(months: 1); $0.keepWithin = RetentionDuration(days: 2); $0.keepTags = ["a,b"]
        }
        XCTAssertEqual(p.description, "keep the last 2 snapshots, 7 daily, all monthly, weekly snapshots within 1m, "
                       + "all snapshots within 2d of the newest, all snapshots tagged a,b")
    }

    func testEmptyGroupIsEmpty() {
        let outcome = Retention.apply(policy { $0.keepLast = 3 }, to: [], now: instant(RetentionFixture.defaultNow))
        XCTAssertTrue(outcome.keep.isEmpty && outcome.remove.isEmpty)
    }
}

extension RetentionFixture {
    /// One snapshot a day at 12:00Z from 2024-01-01, with the given tags.
    static func taggedDays(_ tags: [[String]]) -> RetentionFixture {
        var fixture = RetentionFixture()
        for (day, tagList) in tags.enumerated() {
            fixture.add("2024-01-\(day < 9 ? "0" : "")\(day + 1)T12:00:00Z", tags: tagList)
        }
        return fixture
    }
}

/// The policy as `forget` prints it.
final class RetentionDescriptionTests: XCTestCase {
    func testUnlimitedCountsReadAsAll() {
        XCTAssertEqual(policy { $0.keepLast = -1 }.description, "keep all snapshots")
        XCTAssertEqual(policy { $0.keepLast = 2; $0.keepDaily = 7; $0.keepMonthly = -1 }.description,
                       "keep the last 2 snapshots, 7 daily, all monthly")
        XCTAssertEqual(policy { _ in }.description, "keep everything (no policy)")
    }
}
