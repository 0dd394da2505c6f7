import XCTest
#if canImport(Glibc)
import Glibc
#endif
import SnapEngine

final class RFC3339ParseTests: XCTestCase {
    private let jan2 = Int64(1_704_153_600)  // 2024-01-02T00:00:00Z
    private let jan2At030405 = Timestamp(seconds: 1_704_164_645, nanoseconds: 0)  // 2024-01-02T03:04:05Z

    /// Runs `body` with the process's time zone set to the POSIX TZ string `zone`, then restores it.
    private func withTimeZone(_ zone: String, _ body: () throws -> Void) rethrows {
        let saved = getenv("TZ").map { String(cString: $0) }
        setenv("TZ", zone, 1)
        tzset()
        defer {
            if let saved { setenv("TZ", saved, 1) } else { unsetenv("TZ") }
            tzset()
        }
        try body()
    }

    // The plain UTC form, lower-case t and z, and a space instead of T all mean the same instant.
    func testSeparatorsAndCase() {
        for text in ["2024-01-02T03:04:05Z", "2024-01-02t03:04:05z", "2024-01-02 03:04:05Z", "2024-01-02t03:04:05Z",
                     "2024-01-02T05:04:05+02:00", "2024-01-01T21:34:05-05:30", "2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05-00:00"] {
            XCTAssertEqual(RFC3339.parse(text), jan2At030405, text)
        }
    }

    // Fractions of 1 to 9 digits scale to nanoseconds; further digits are truncated, not rounded.
    func testFractionalSeconds() {
        let digits = "123456789"
        for count in 1...9 {
            let fraction = String(digits.prefix(count))
            var expected = UInt32(fraction)!
            for _ in count..<9 { expected *= 10 }
            XCTAssertEqual(RFC3339.parse("2024-01-02T03:04:05.\(fraction)Z"),
                           Timestamp(seconds: jan2At030405.seconds, nanoseconds: expected), fraction)
        }
        XCTAssertEqual(RFC3339.parse("2024-01-02T03:04:05.1234567899Z")?.nanoseconds, 123_456_789)
        XCTAssertEqual(RFC3339.parse("2024-01-02T03:04:05.99999999999999+02:00"),
                       Timestamp(seconds: jan2At030405.seconds - 7200, nanoseconds: 999_999_999))
        XCTAssertEqual(RFC3339.parse("2024-01-02T03:04:05.5z")?.nanoseconds, 500_000_000)
    }

    // A date alone means local midnight: adding the local offset at the result gives UTC midnight.
    func testDateOnlyIsLocalMidnight() throws {
        let t = try XCTUnwrap(RFC3339.parse("2024-01-02"))
        XCTAssertEqual(t.seconds + Int64(RFC3339.localOffset(at: t.seconds)), jan2)
        XCTAssertEqual(t.nanoseconds, 0)
    }

    // Under a fixed +05:30 zone, a date alone and a time without zone are read in that zone.
    func testZonelessTimesUseTheLocalZone() {
        withTimeZone("<+0530>-5:30") {
            XCTAssertEqual(RFC3339.localOffset(at: jan2), 19_800, "the time zone did not take effect")
            XCTAssertEqual(RFC3339.parse("2024-01-02"), Timestamp(seconds: jan2 - 19_800, nanoseconds: 0))
            XCTAssertEqual(RFC3339.parse("2024-01-02T08:34:05"), jan2At030405)
            XCTAssertEqual(RFC3339.parse("2024-01-02 08:34:05.25"), Timestamp(seconds: jan2At030405.seconds, nanoseconds: 250_000_000))
            XCTAssertEqual(RFC3339.parse("2024-01-02T03:04:05Z"), jan2At030405, "an explicit zone wins")
        }
    }

    // In a zone with summer time, local midnight uses the offset in force on that date.
    func testDateOnlyFollowsSummerTime() {
        withTimeZone("CET-1CEST,M3.5.0,M10.5.0/3") {
            XCTAssertEqual(RFC3339.parse("2024-01-02"), Timestamp(seconds: jan2 - 3600, nanoseconds: 0))
            XCTAssertEqual(RFC3339.parse("2024-07-01"), Timestamp(seconds: 1_719_792_000 - 7200, nanoseconds: 0))
        }
    }

    // Garbage, impossible fields and trailing junk are rejected.
    func testRejectsGarbage() {
        let bad = ["", "yesterday", "now", "2024", "2024-1-01", "24-01-01", "2024/01/01", " 2024-01-01", "2024-01-01junk",
                   "2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32",
                   "2024-01-01T25:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T10:60:00Z", "2024-01-01T10:00:61Z",
                   "2024-01-01T", "2024-01-01T1", "2024-01-01T10", "2024-01-01X10:00:00Z", "2024-01-01T10:00:00.Z",
                   "2024-01-01T10:00:00Zjunk", "2024-01-01T10:00:00Z ", "2024-01-01T10:00:00+02:00junk",
                   "2024-01-01T10:00:00+0200", "2024-01-01T10:00:00+02", "2024-01-01T10:00:00 Z", "2024-01-01T10:00:00UTC",
                   "2024-01-01T1a:00:00Z", "2024-0a-01", "２０２４-01-01"]
        for text in bad {
            XCTAssertNil(RFC3339.parse(text), "'\(text)' should be rejected")
        }
    }

    // Year 0000 and a leap second (:60) are refused, in every form; years 0001 and 9999 and second 59 are not.
    func testRejectsYearZeroAndSecondSixty() {
        for text in ["0000-01-01", "0000-01-01T00:00:00Z", "0000-12-31 23:59", "2024-01-01T12:00:60Z", "2016-12-31T23:59:60Z",
                     "2024-01-01 12:00:60", "2024-01-01T12:00:60.5+02:00"] {
            XCTAssertNil(RFC3339.parse(text), "'\(text)' should be rejected")
        }
        XCTAssertNotNil(RFC3339.parse("0001-01-01T00:00:00Z"))
        XCTAssertNotNil(RFC3339.parse("9999-12-31T23:59:59Z"))
        XCTAssertEqual(RFC3339.parse("2024-01-02T03:04:59Z"), Timestamp(seconds: jan2At030405.seconds + 54, nanoseconds: 0))
    }

    // Days that do not exist in their month and offsets beyond 23:59 are rejected; real leap days are not.
    func testRejectsImpossibleCalendarDatesAndOffsets() {
        for text in ["2024-02-30", "2023-02-29", "2100-02-29", "2024-04-31", "2024-06-31T00:00:00Z",
                     "2024-01-01T10:00:00+24:00", "2024-01-01T10:00:00+02:60", "2024-01-01T10:00:00-99:99"] {
            XCTAssertNil(RFC3339.parse(text), "'\(text)' should be rejected")
        }
        XCTAssertEqual(RFC3339.parse("2024-02-29T00:00:00Z"), Timestamp(seconds: 1_709_164_800, nanoseconds: 0))
        XCTAssertEqual(RFC3339.parse("2000-02-29T00:00:00Z"), Timestamp(seconds: 951_782_400, nanoseconds: 0))
        XCTAssertEqual(RFC3339.parse("2024-12-31T23:59:59+23:59"), Timestamp(seconds: 1_735_689_599 - 86_340, nanoseconds: 0))
    }
}
