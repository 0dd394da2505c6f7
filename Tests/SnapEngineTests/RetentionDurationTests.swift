import SnapEngine
import XCTest

/// `--keep-within` durations: parsing, printing and the calendar arithmetic that measures
/// them back from the newest snapshot.
final class RetentionDurationTests: XCTestCase {
    func testParsesEveryUnit() throws {
        XCTAssertEqual(try RetentionDuration(parsing: "2y5m7d3h"), RetentionDuration(years: 2, months: 5, days: 7, hours: 3))
        XCTAssertEqual(try RetentionDuration(parsing: "7d"), RetentionDuration(days: 7))
        XCTAssertEqual(try RetentionDuration(parsing: "48h"), RetentionDuration(hours: 48))
        XCTAssertEqual(try RetentionDuration(parsing: "1y"), RetentionDuration(years: 1))
        XCTAssertEqual(try RetentionDuration(parsing: "3h2d1m"), RetentionDuration(months: 1, days: 2, hours: 3), "any order")
        XCTAssertEqual(try RetentionDuration(parsing: "1d1d"), RetentionDuration(days: 2), "repeated units add up, as in restic")
        XCTAssertEqual(try RetentionDuration(parsing: "007d"), RetentionDuration(days: 7))
        XCTAssertEqual(try RetentionDuration(parsing: "0d"), RetentionDuration.zero)
        XCTAssertTrue(try RetentionDuration(parsing: "0y0h").isZero)
        XCTAssertEqual(try RetentionDuration(parsing: "1000000h"), RetentionDuration(hours: 1_000_000))
    }

    func testRejectsInvalidText() {
        for text in ["", "2", "y", "d7", "2w", "2Y", "7D", "-1d", "+1d", "1d ", " 1d", "1 d", "1.5d", "1d2", "2y5m7d3h4",
                     "1,5d", "1e3d", "１d", "99999999999999999999y", "1000001d", "600000d600000d", "unlimited"] {
            XCTAssertThrowsError(try RetentionDuration(parsing: text), "'\(text)' must be rejected") { error in
                guard case RetentionError.invalidDuration(let quoted, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(quoted, text)
            }
        }
    }

    func testPrintsNonZeroPartsInOrder() throws {
        XCTAssertEqual(try RetentionDuration(parsing: "3h2d1m").description, "1m2d3h")
        XCTAssertEqual(RetentionDuration(years: 2, months: 5, days: 7, hours: 3).description, "2y5m7d3h")
        XCTAssertEqual(RetentionDuration(days: 2).description, "2d")
        XCTAssertEqual(RetentionDuration.zero.description, "0h")
    }

    /// Going back follows Go's `AddDate` then `Add`, on the wall clock of the time's offset.
    func testGoingBackFollowsTheCalendar() {
        let cases: [(from: String, by: RetentionDuration, to: String)] = [
            ("2023-06-30T23:59:59Z", RetentionDuration(years: 2, months: 5, days: 7, hours: 3), "2021-01-23T20:59:59Z"),
            // 31 March minus a month is "31 February", which rolls over into March.
            ("2023-03-31T12:00:00Z", RetentionDuration(months: 1), "2023-03-03T12:00:00Z"),
            ("2024-03-31T12:00:00Z", RetentionDuration(months: 1), "2024-03-02T12:00:00Z"),
            // Days are taken after months: "30 February" 2023 is 2 March.
            ("2023-03-31T00:00:00Z", RetentionDuration(months: 1, days: 1), "2023-03-02T00:00:00Z"),
            ("2024-02-29T08:00:00Z", RetentionDuration(years: 1), "2023-03-01T08:00:00Z"),
            ("2024-01-15T10:00:00Z", RetentionDuration(months: 13), "2022-12-15T10:00:00Z"),
            ("2024-03-10T12:00:00Z", RetentionDuration(days: 10), "2024-02-29T12:00:00Z"),
            ("2024-03-01T01:00:00Z", RetentionDuration(hours: 2), "2024-02-29T23:00:00Z"),
            // In the snapshot's own offset: 1 May 00:30 at +02:00 is 30 April in UTC.
            ("2024-05-01T00:30:00+02:00", RetentionDuration(months: 1), "2024-04-01T00:30:00+02:00"),
            ("2024-03-01T00:30:00-05:00", RetentionDuration(days: 1), "2024-02-29T00:30:00-05:00"),
            ("2024-05-05T05:05:05.123456789Z", RetentionDuration(days: 5), "2024-04-30T05:05:05.123456789Z"),
        ]
        for c in cases {
            guard let from = ZonedTimestamp(rfc3339: c.from) else { XCTFail(c.from); continue }
            XCTAssertEqual(from.goingBack(by: c.by), instant(c.to), "\(c.from) - \(c.by)")
        }
    }

    func testOffsetIsTakenFromTheText() {
        XCTAssertEqual(ZonedTimestamp(rfc3339: "2024-03-31T03:10:00+02:00")?.utcOffset, 7200)
        XCTAssertEqual(ZonedTimestamp(rfc3339: "2024-03-31T03:10:00-09:30")?.utcOffset, -34_200)
        XCTAssertEqual(ZonedTimestamp(rfc3339: "2024-03-31T03:10:00.5+00:00")?.utcOffset, 0)
        XCTAssertEqual(ZonedTimestamp(rfc3339: "2024-03-31T03:10:00Z")?.utcOffset, 0)
        XCTAssertEqual(ZonedTimestamp(rfc3339: "2024-03-31T03:10:00+02:00")?.instant, instant("2024-03-31T01:10:00Z"))
        XCTAssertNil(ZonedTimestamp(rfc3339: "yesterday"))
    }
}
