import Foundation
import SnapEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Periods follow the wall clock of each snapshot's stored UTC offset; durations are
/// measured back from the newest snapshot that is not in the future.
final class RetentionTimeZoneTests: XCTestCase {
    /// A host in Berlin around the spring change (+01:00 → +02:00 at 02:00 on 31 March
    /// 2024), with snapshots just after midnight, just before midnight and across the change.
    /// In UTC, E and F fall on the same day (31 March) and B on the same day as A.
    private let spring = RetentionFixture([
        "2024-03-30T23:30:00+01:00",  // A  Sat, 22:30Z
        "2024-03-31T00:30:00+01:00",  // B  Sun just after midnight, 2024-03-30T23:30Z
        "2024-03-31T01:59:00+01:00",  // C  00:59Z
        "2024-03-31T03:10:00+02:00",  // D  after the change, 01:10Z
        "2024-03-31T23:59:00+02:00",  // E  Sun just before midnight, 21:59Z
        "2024-04-01T00:01:00+02:00",  // F  Mon just after midnight, 22:01Z
    ])

    /// Local days: F is 1 April, E–B are 31 March, A is 30 March.
    func testDaysFollowTheLocalWallClock() {
        XCTAssertEqual(spring.kept(policy { $0.keepDaily = 3 }),
                       ["2024-04-01T00:01:00+02:00", "2024-03-31T23:59:00+02:00", "2024-03-30T23:30:00+01:00"])
    }

    /// Sunday 23:59 and Monday 00:01 local are in different ISO weeks, although both are
    /// Sunday in UTC.
    func testWeeksFollowTheLocalWallClock() {
        XCTAssertEqual(spring.kept(policy { $0.keepWeekly = 2 }), ["2024-04-01T00:01:00+02:00", "2024-03-31T23:59:00+02:00"])
    }

    /// 01:59+01:00 and 03:10+02:00 are 11 minutes apart but in different local hours.
    func testHoursAcrossTheSpringChange() {
        XCTAssertEqual(spring.kept(policy { $0.keepHourly = 6 }).count, 6)
        XCTAssertEqual(spring.kept(policy { $0.keepHourly = 4 }),
                       ["2024-04-01T00:01:00+02:00", "2024-03-31T23:59:00+02:00", "2024-03-31T03:10:00+02:00", "2024-03-31T01:59:00+01:00"])
    }

    /// Around the autumn change (03:00+02:00 → 02:00+01:00 on 27 October 2024) the wall
    /// clock shows 02:xx for two real hours; both count as the one local hour 02.
    func testTheRepeatedAutumnHourIsOneHour() {
        let autumn = RetentionFixture([
            "2024-10-27T01:50:00+02:00",  // 2024-10-26T23:50Z
            "2024-10-27T02:15:00+02:00",  // 00:15Z
            "2024-10-27T02:45:00+02:00",  // 00:45Z
            "2024-10-27T02:05:00+01:00",  // 01:05Z: later, although its wall clock is earlier
            "2024-10-27T02:55:00+01:00",  // 01:55Z
            "2024-10-27T03:00:00+01:00",  // 02:00Z
        ])
        XCTAssertEqual(autumn.kept(policy { $0.keepHourly = 3 }),
                       ["2024-10-27T03:00:00+01:00", "2024-10-27T02:55:00+01:00", "2024-10-27T01:50:00+02:00"])
        XCTAssertEqual(autumn.kept(policy { $0.keepDaily = 1 }), ["2024-10-27T03:00:00+01:00"])
    }

    /// A laptop that travels: each snapshot's day is its own wall-clock day. X (Chicago
    /// evening of 10 June) is newer than Y (11 June in UTC), so X is the newest snapshot of
    /// 10 June and W, also 10 June, is not kept again.
    func testMixedOffsetsCountEachDayOnce() {
        let travel = RetentionFixture([
            "2024-06-09T12:00:00Z",       // V
            "2024-06-10T20:00:00Z",       // W  day 10 June
            "2024-06-11T01:00:00+00:00",  // Y  day 11 June, 01:00Z
            "2024-06-10T23:30:00-05:00",  // X  day 10 June, 2024-06-11T04:30Z: the newest
        ])
        XCTAssertEqual(travel.kept(policy { $0.keepDaily = 5 }),
                       ["2024-06-10T23:30:00-05:00", "2024-06-11T01:00:00+00:00", "2024-06-09T12:00:00Z"])
        XCTAssertEqual(travel.removed(policy { $0.keepDaily = 5 }), ["2024-06-10T20:00:00Z"])
    }

    /// One month before 1 May 00:30 +02:00 is 1 April 00:30 +02:00 = 2024-03-31T22:30Z
    /// (computed in UTC it would be 30 March 22:30Z). A snapshot exactly at the limit is out.
    func testKeepWithinUsesTheNewestSnapshotsOffset() {
        let fixture = RetentionFixture([
            "2024-03-31T12:00:00Z",
            "2024-03-31T22:30:00Z",
            "2024-03-31T22:30:01Z",
            "2024-04-15T10:00:00+02:00",
            "2024-05-01T00:30:00+02:00",
        ])
        let p = policy { $0.keepWithin = RetentionDuration(months: 1) }
        XCTAssertEqual(fixture.kept(p), ["2024-05-01T00:30:00+02:00", "2024-04-15T10:00:00+02:00", "2024-03-31T22:30:01Z"])
        XCTAssertEqual(fixture.removed(p), ["2024-03-31T22:30:00Z", "2024-03-31T12:00:00Z"])
    }

    /// Run in New York, one month before 1 December 12:00 EST is 1 November 12:00 EDT (the
    /// local zone's rules, as Go applies them when the stored offset is the local one), so
    /// 1 November 12:30 EDT is within; run in UTC, the stored offset is fixed and it is not.
    func testKeepWithinAcrossDaylightSavingFollowsTheLocalZone() throws {
        guard access("/usr/share/zoneinfo/America/New_York", R_OK) == 0 else { throw XCTSkip("no time zone data") }
        let saved = getenv("TZ").map { String(cString: $0) }
        defer {
            if let saved { setenv("TZ", saved, 1) } else { unsetenv("TZ") }
            tzset()
        }
        let fixture = RetentionFixture(["2024-11-01T12:30:00-04:00", "2024-12-01T12:00:00-05:00"])
        let p = policy { $0.keepWithin = RetentionDuration(months: 1) }
        setenv("TZ", "America/New_York", 1)
        tzset()
        XCTAssertEqual(fixture.kept(p), ["2024-12-01T12:00:00-05:00", "2024-11-01T12:30:00-04:00"])
        setenv("TZ", "UTC", 1)
        tzset()
        XCTAssertEqual(fixture.removed(p), ["2024-11-01T12:30:00-04:00"])
    }

    /// A snapshot dated in the future does not move the reference of durations (restic:
    /// duration rules ignore future snapshots), and is itself within every duration.
    func testFutureSnapshotsDoNotMoveTheReference() {
        let fixture = RetentionFixture(["2024-05-01T00:00:00Z", "2024-05-20T00:00:00Z", "2024-05-25T00:00:00Z", "2024-07-01T00:00:00Z"])
        let now = "2024-06-01T00:00:00Z"
        XCTAssertEqual(fixture.kept(policy { $0.keepWithin = RetentionDuration(days: 10) }, now: now),
                       ["2024-07-01T00:00:00Z", "2024-05-25T00:00:00Z", "2024-05-20T00:00:00Z"])
        XCTAssertEqual(fixture.kept(policy { $0.keepWithinDaily = RetentionDuration(days: 3) }, now: now),
                       ["2024-07-01T00:00:00Z", "2024-05-25T00:00:00Z"])
        // Counts do not look at the clock: the future snapshot is simply the newest.
        XCTAssertEqual(fixture.kept(policy { $0.keepLast = 1 }, now: now), ["2024-07-01T00:00:00Z"])
        // With every snapshot in the future there is no reference, and all are within.
        XCTAssertEqual(fixture.kept(policy { $0.keepWithin = RetentionDuration(days: 1) }, now: "2020-01-01T00:00:00Z").count, 4)
    }
}
