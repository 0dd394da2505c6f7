import SnapEngine
import XCTest

/// Every rule, alone and combined, on a generated timeline of 753 snapshots over more than
/// two years (UTC), with gaps and several snapshots in one hour and one day. Expected
/// survivors are written out literally; they were worked out by hand from the timeline
/// described below, not by running the engine.
///
/// The timeline:
/// - one snapshot a day at 02:00Z from 2021-03-01 through 2023-06-30 (852 days);
/// - except 2022-07-10 through 2022-09-20 (73 days: no snapshot at all in August 2022) and
///   all of January 2023 (31 days), leaving 748 daily snapshots;
/// - plus 2023-06-29T23:00Z and, on 2023-06-30, 02:10, 02:40 (the same hour as 02:00),
///   13:00 and 23:59:59: 753 snapshots in all.
///
/// Calendar facts used: 2023-06-30 is a Friday (its ISO week runs Monday 06-26 to Sunday
/// 07-02); Sundays fall on 2023-06-25, 06-18, …, 02-05 and on 2022-12-25, 12-18, …;
/// 2022-12-31 is a Saturday in the week of Monday 12-26.
final class RetentionTimelineTests: XCTestCase {
    private static let timeline: RetentionFixture = {
        var fixture = RetentionFixture()
        for date in calendarDates(from: (2021, 3, 1), through: (2023, 6, 30)) {
            if ("2022-07-10"..."2022-09-20").contains(date) || date.hasPrefix("2023-01-") { continue }
            fixture.add("\(date)T02:00:00Z")
        }
        for time in ["2023-06-29T23:00:00Z", "2023-06-30T02:10:00Z", "2023-06-30T02:40:00Z", "2023-06-30T13:00:00Z", "2023-06-30T23:59:59Z"] {
            fixture.add(time)
        }
        return fixture
    }()

    private var timeline: RetentionFixture { Self.timeline }

    func testTimelineIsAsDescribed() {
        XCTAssertEqual(timeline.snapshots.count, 753)
    }

    func testKeepLast() {
        let p = policy { $0.keepLast = 4 }
        XCTAssertEqual(timeline.kept(p), ["2023-06-30T23:59:59Z", "2023-06-30T13:00:00Z", "2023-06-30T02:40:00Z", "2023-06-30T02:10:00Z"])
        XCTAssertTrue(timeline.reasons(p).allSatisfy { $0.1 == ["last snapshot"] })
        XCTAssertEqual(timeline.removed(p).count, 749)
        XCTAssertEqual(timeline.removed(p).first, "2023-06-30T02:00:00Z")
    }

    /// A rewritten snapshot keeps its original's time; of the two, it is the newer (as
    /// `latest` takes it), whichever ID is larger: `--keep-last 1` keeps the rewrite, never
    /// the original it was made to replace.
    func testKeepLastPrefersTheRewriteOverItsOriginal() throws {
        let time = try XCTUnwrap(ZonedTimestamp(rfc3339: "2024-03-01T10:00:00Z"))
        for (originalID, rewriteID) in [(retentionTestID(2), retentionTestID(1)), (retentionTestID(1), retentionTestID(2))] {
            let original = RetentionSnapshot(id: originalID, time: time, hostname: "h", paths: ["/d"], tags: [])
            let rewrite = RetentionSnapshot(id: rewriteID, time: time, hostname: "h", paths: ["/d"], tags: ["rewrite"], madeFromAnother: true)
            let outcome = Retention.apply(policy { $0.keepLast = 1 }, to: [original, rewrite], now: instant("2030-01-01T00:00:00Z"))
            XCTAssertEqual(outcome.keep.map(\.snapshot.id), [rewriteID])
            XCTAssertEqual(outcome.remove.map(\.id), [originalID])
        }
    }

    /// Three snapshots share 02:00–02:59 on 30 June: the newest (02:40) stands for the hour.
    func testKeepHourly() {
        XCTAssertEqual(timeline.kept(policy { $0.keepHourly = 5 }),
                       ["2023-06-30T23:59:59Z", "2023-06-30T13:00:00Z", "2023-06-30T02:40:00Z", "2023-06-29T23:00:00Z", "2023-06-29T02:00:00Z"])
    }

    func testKeepDaily() {
        XCTAssertEqual(timeline.kept(policy { $0.keepDaily = 7 }),
                       ["2023-06-30T23:59:59Z", "2023-06-29T23:00:00Z", "2023-06-28T02:00:00Z", "2023-06-27T02:00:00Z",
                        "2023-06-26T02:00:00Z", "2023-06-25T02:00:00Z", "2023-06-24T02:00:00Z"])
    }

    /// Unlimited daily keeps the newest of each of the 748 days and removes the five
    /// older snapshots of the two days that have several.
    func testKeepDailyUnlimited() {
        let p = policy { $0.keepDaily = -1 }
        XCTAssertEqual(timeline.kept(p).count, 748)
        XCTAssertEqual(timeline.removed(p),
                       ["2023-06-30T13:00:00Z", "2023-06-30T02:40:00Z", "2023-06-30T02:10:00Z", "2023-06-30T02:00:00Z", "2023-06-29T02:00:00Z"])
    }

    func testKeepWeekly() {
        XCTAssertEqual(timeline.kept(policy { $0.keepWeekly = 6 }),
                       ["2023-06-30T23:59:59Z", "2023-06-25T02:00:00Z", "2023-06-18T02:00:00Z", "2023-06-11T02:00:00Z",
                        "2023-06-04T02:00:00Z", "2023-05-28T02:00:00Z"])
    }

    /// Thirty weeks reach back across the empty January: the week of Monday 2022-12-26
    /// (which ends on Sunday 2023-01-01) is represented by Saturday 2022-12-31, and the
    /// four empty weeks in between do not count.
    func testKeepWeeklyAcrossAGap() {
        XCTAssertEqual(timeline.kept(policy { $0.keepWeekly = 30 }),
                       ["2023-06-30T23:59:59Z", "2023-06-25T02:00:00Z", "2023-06-18T02:00:00Z", "2023-06-11T02:00:00Z",
                        "2023-06-04T02:00:00Z", "2023-05-28T02:00:00Z", "2023-05-21T02:00:00Z", "2023-05-14T02:00:00Z",
                        "2023-05-07T02:00:00Z", "2023-04-30T02:00:00Z", "2023-04-23T02:00:00Z", "2023-04-16T02:00:00Z",
                        "2023-04-09T02:00:00Z", "2023-04-02T02:00:00Z", "2023-03-26T02:00:00Z", "2023-03-19T02:00:00Z",
                        "2023-03-12T02:00:00Z", "2023-03-05T02:00:00Z", "2023-02-26T02:00:00Z", "2023-02-19T02:00:00Z",
                        "2023-02-12T02:00:00Z", "2023-02-05T02:00:00Z", "2022-12-31T02:00:00Z", "2022-12-25T02:00:00Z",
                        "2022-12-18T02:00:00Z", "2022-12-11T02:00:00Z", "2022-12-04T02:00:00Z", "2022-11-27T02:00:00Z",
                        "2022-11-20T02:00:00Z", "2022-11-13T02:00:00Z"])
    }

    /// January 2023 and August 2022 have no snapshots and are skipped, not counted; July
    /// 2022 is represented by its last snapshot, the 9th.
    func testKeepMonthly() {
        XCTAssertEqual(timeline.kept(policy { $0.keepMonthly = 12 }),
                       ["2023-06-30T23:59:59Z", "2023-05-31T02:00:00Z", "2023-04-30T02:00:00Z", "2023-03-31T02:00:00Z",
                        "2023-02-28T02:00:00Z", "2022-12-31T02:00:00Z", "2022-11-30T02:00:00Z", "2022-10-31T02:00:00Z",
                        "2022-09-30T02:00:00Z", "2022-07-09T02:00:00Z", "2022-06-30T02:00:00Z", "2022-05-31T02:00:00Z"])
    }

    /// Unlimited keeps the newest of all 26 months with snapshots, and the oldest snapshot
    /// too because an unlimited rule always has count left.
    func testKeepMonthlyUnlimitedKeepsTheOldest() {
        let reasons = timeline.reasons(policy { $0.keepMonthly = -1 })
        XCTAssertEqual(reasons.map(\.0),
                       ["2023-06-30T23:59:59Z", "2023-05-31T02:00:00Z", "2023-04-30T02:00:00Z", "2023-03-31T02:00:00Z",
                        "2023-02-28T02:00:00Z", "2022-12-31T02:00:00Z", "2022-11-30T02:00:00Z", "2022-10-31T02:00:00Z",
                        "2022-09-30T02:00:00Z", "2022-07-09T02:00:00Z", "2022-06-30T02:00:00Z", "2022-05-31T02:00:00Z",
                        "2022-04-30T02:00:00Z", "2022-03-31T02:00:00Z", "2022-02-28T02:00:00Z", "2022-01-31T02:00:00Z",
                        "2021-12-31T02:00:00Z", "2021-11-30T02:00:00Z", "2021-10-31T02:00:00Z", "2021-09-30T02:00:00Z",
                        "2021-08-31T02:00:00Z", "2021-07-31T02:00:00Z", "2021-06-30T02:00:00Z", "2021-05-31T02:00:00Z",
                        "2021-04-30T02:00:00Z", "2021-03-31T02:00:00Z", "2021-03-01T02:00:00Z"])
        XCTAssertEqual(reasons.last?.1, ["oldest monthly snapshot"])
        XCTAssertEqual(reasons.first?.1, ["monthly snapshot"])
    }

    /// Only three years have snapshots: with five yearly slots, two are left when the
    /// oldest snapshot is reached, so it is kept as well.
    func testKeepYearlyKeepsTheOldestWhenSlotsRemain() {
        XCTAssertEqual(timeline.reasons(policy { $0.keepYearly = 5 }).map { "\($0.0) \($0.1)" },
                       ["2023-06-30T23:59:59Z [\"yearly snapshot\"]", "2022-12-31T02:00:00Z [\"yearly snapshot\"]",
                        "2021-12-31T02:00:00Z [\"yearly snapshot\"]", "2021-03-01T02:00:00Z [\"oldest yearly snapshot\"]"])
    }

    /// Three slots for three years: none left for the oldest.
    func testKeepYearlyWithExactlyEnoughYears() {
        XCTAssertEqual(timeline.kept(policy { $0.keepYearly = 3 }),
                       ["2023-06-30T23:59:59Z", "2022-12-31T02:00:00Z", "2021-12-31T02:00:00Z"])
    }

    /// 1y2m3d4h before 2023-06-30T23:59:59Z is 2022-04-27T19:59:59Z: the 330 snapshots
    /// from 2022-04-28 on stay (3+31+30+9 days to the July gap, 10+31+30+31 to the January
    /// gap, 28+31+30+31+30 after it, plus the 5 extra snapshots).
    func testKeepWithin() throws {
        let p = policy { $0.keepWithin = RetentionDuration(years: 1, months: 2, days: 3, hours: 4) }
        let kept = timeline.reasons(p)
        XCTAssertEqual(kept.count, 330)
        XCTAssertEqual(kept.last?.0, "2022-04-28T02:00:00Z")
        XCTAssertEqual(timeline.removed(p).first, "2022-04-27T02:00:00Z")
        XCTAssertEqual(timeline.removed(p).count, 423)
        XCTAssertTrue(kept.allSatisfy { $0.1 == ["within 1y2m3d4h"] })
        // 2y5m7d3h reaches back to 2021-01-23T20:59:59Z, before the first snapshot.
        XCTAssertEqual(timeline.kept(policy { $0.keepWithin = try! RetentionDuration(parsing: "2y5m7d3h") }).count, 753)
    }

    /// 1d before the newest is 2023-06-29T23:59:59Z, so the 23:00 snapshot that day is out.
    func testKeepWithinHourly() {
        let reasons = timeline.reasons(policy { $0.keepWithinHourly = RetentionDuration(days: 1) })
        XCTAssertEqual(reasons.map(\.0), ["2023-06-30T23:59:59Z", "2023-06-30T13:00:00Z", "2023-06-30T02:40:00Z"])
        XCTAssertTrue(reasons.allSatisfy { $0.1 == ["hourly within 1d"] })
    }

    func testKeepWithinDaily() {
        XCTAssertEqual(timeline.kept(policy { $0.keepWithinDaily = RetentionDuration(days: 5) }),
                       ["2023-06-30T23:59:59Z", "2023-06-29T23:00:00Z", "2023-06-28T02:00:00Z", "2023-06-27T02:00:00Z", "2023-06-26T02:00:00Z"])
    }

    /// From 2023-05-30T23:59:59Z on; 05-31 shares the week of Monday 05-29 with 06-04.
    func testKeepWithinWeekly() {
        XCTAssertEqual(timeline.kept(policy { $0.keepWithinWeekly = RetentionDuration(months: 1) }),
                       ["2023-06-30T23:59:59Z", "2023-06-25T02:00:00Z", "2023-06-18T02:00:00Z", "2023-06-11T02:00:00Z", "2023-06-04T02:00:00Z"])
    }

    /// From 2022-06-30T23:59:59Z on: ten months have snapshots.
    func testKeepWithinMonthly() {
        XCTAssertEqual(timeline.kept(policy { $0.keepWithinMonthly = RetentionDuration(years: 1) }),
                       ["2023-06-30T23:59:59Z", "2023-05-31T02:00:00Z", "2023-04-30T02:00:00Z", "2023-03-31T02:00:00Z",
                        "2023-02-28T02:00:00Z", "2022-12-31T02:00:00Z", "2022-11-30T02:00:00Z", "2022-10-31T02:00:00Z",
                        "2022-09-30T02:00:00Z", "2022-07-09T02:00:00Z"])
    }

    /// Ten years reach past the oldest snapshot, which is kept in addition.
    func testKeepWithinYearlyKeepsTheOldestInRange() {
        XCTAssertEqual(timeline.reasons(policy { $0.keepWithinYearly = RetentionDuration(years: 10) }).map { "\($0.0) \($0.1)" },
                       ["2023-06-30T23:59:59Z [\"yearly within 10y\"]", "2022-12-31T02:00:00Z [\"yearly within 10y\"]",
                        "2021-12-31T02:00:00Z [\"yearly within 10y\"]", "2021-03-01T02:00:00Z [\"oldest yearly within 10y\"]"])
    }

    func testCountRulesCombined() {
        let p = policy { $0.keepLast = 2; $0.keepDaily = 3; $0.keepWeekly = 3; $0.keepMonthly = 3; $0.keepYearly = 2 }
        let got = timeline.reasons(p)
        let expected: [(String, [String])] = [
            ("2023-06-30T23:59:59Z", ["last snapshot", "daily snapshot", "weekly snapshot", "monthly snapshot", "yearly snapshot"]),
            ("2023-06-30T13:00:00Z", ["last snapshot"]),
            ("2023-06-29T23:00:00Z", ["daily snapshot"]),
            ("2023-06-28T02:00:00Z", ["daily snapshot"]),
            ("2023-06-25T02:00:00Z", ["weekly snapshot"]),
            ("2023-06-18T02:00:00Z", ["weekly snapshot"]),
            ("2023-05-31T02:00:00Z", ["monthly snapshot"]),
            ("2023-04-30T02:00:00Z", ["monthly snapshot"]),
            ("2022-12-31T02:00:00Z", ["yearly snapshot"]),
        ]
        XCTAssertEqual(got.map(\.0), expected.map(\.0))
        XCTAssertEqual(got.map(\.1), expected.map(\.1))
        XCTAssertEqual(timeline.removed(p).count, 753 - 9)
    }

    func testCountAndDurationRulesCombined() {
        let p = policy {
            $0.keepDaily = 2; $0.keepMonthly = 2
            $0.keepWithin = RetentionDuration(days: 2); $0.keepWithinWeekly = RetentionDuration(months: 1)
        }
        let got = timeline.reasons(p)
        let expected: [(String, [String])] = [
            ("2023-06-30T23:59:59Z", ["within 2d", "daily snapshot", "monthly snapshot", "weekly within 1m"]),
            ("2023-06-30T13:00:00Z", ["within 2d"]),
            ("2023-06-30T02:40:00Z", ["within 2d"]),
            ("2023-06-30T02:10:00Z", ["within 2d"]),
            ("2023-06-30T02:00:00Z", ["within 2d"]),
            ("2023-06-29T23:00:00Z", ["within 2d", "daily snapshot"]),
            ("2023-06-29T02:00:00Z", ["within 2d"]),
            ("2023-06-25T02:00:00Z", ["weekly within 1m"]),
            ("2023-06-18T02:00:00Z", ["weekly within 1m"]),
            ("2023-06-11T02:00:00Z", ["weekly within 1m"]),
            ("2023-06-04T02:00:00Z", ["weekly within 1m"]),
            ("2023-05-31T02:00:00Z", ["monthly snapshot"]),
        ]
        XCTAssertEqual(got.map(\.0), expected.map(\.0))
        XCTAssertEqual(got.map(\.1), expected.map(\.1))
    }

    /// Kept and removed together are the whole group, each snapshot once.
    func testEverySnapshotIsDecidedOnce() {
        let outcome = timeline.outcome(policy { $0.keepWeekly = 10; $0.keepMonthly = 10 })
        let ids = outcome.keep.map(\.snapshot.id) + outcome.remove.map(\.id)
        XCTAssertEqual(ids.count, 753)
        XCTAssertEqual(Set(ids), Set(timeline.snapshots.map(\.id)))
    }
}
