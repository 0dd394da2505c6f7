import XCTest
import SnapEngine

final class RFC3339FormatTests: XCTestCase {
    private let offsets = [0, 7200, -19800, 14 * 3600, -12 * 3600, 5 * 3600 + 45 * 60, -3600]

    // The documented known value: 2024-03-01T10:00:00+02:00 is Unix time 1709280000, both ways.
    func testKnownValue() {
        let t = Timestamp(seconds: 1_709_280_000, nanoseconds: 0)
        XCTAssertEqual(RFC3339.format(t, utcOffset: 7200), "2024-03-01T10:00:00+02:00")
        XCTAssertEqual(RFC3339.format(t, utcOffset: 0), "2024-03-01T08:00:00Z")
        XCTAssertEqual(RFC3339.parse("2024-03-01T10:00:00+02:00"), t)
        XCTAssertEqual(RFC3339.parse("2024-03-01T08:00:00Z"), t)
    }

    // Nanoseconds are written as nine digits and negative offsets as -HH:MM.
    func testFormatsNanosecondsAndOffsets() {
        let t = Timestamp(seconds: 1_709_280_000, nanoseconds: 5)
        XCTAssertEqual(RFC3339.format(t, utcOffset: -19800), "2024-03-01T02:30:00.000000005-05:30")
        XCTAssertEqual(RFC3339.format(Timestamp(seconds: 1_709_280_000, nanoseconds: 123_456_789), utcOffset: 0),
                       "2024-03-01T08:00:00.123456789Z")
        XCTAssertEqual(RFC3339.format(Timestamp(seconds: 0, nanoseconds: 0), utcOffset: -3600), "1969-12-31T23:00:00-01:00")
    }

    // Times before 1970 and after 2100 format to the right calendar dates.
    func testFarDatesFormatCorrectly() {
        XCTAssertEqual(RFC3339.format(Timestamp(seconds: -1, nanoseconds: 500_000_000), utcOffset: 0), "1969-12-31T23:59:59.500000000Z")
        XCTAssertEqual(RFC3339.format(Timestamp(seconds: -2_208_988_800, nanoseconds: 0), utcOffset: 0), "1900-01-01T00:00:00Z")
        XCTAssertEqual(RFC3339.format(Timestamp(seconds: 4_107_542_400, nanoseconds: 0), utcOffset: 0), "2100-03-01T00:00:00Z")
        XCTAssertEqual(RFC3339.format(Timestamp(seconds: 253_402_300_799, nanoseconds: 0), utcOffset: 0), "9999-12-31T23:59:59Z")
        XCTAssertEqual(RFC3339.format(Timestamp(seconds: -62_135_596_800, nanoseconds: 0), utcOffset: 0), "0001-01-01T00:00:00Z")
    }

    // parse(format(t, offset)) == t for times with nanoseconds, across offsets and centuries.
    func testRoundTrips() {
        let seconds: [Int64] = [0, -1, 1, 1_709_280_000, -2_208_988_800, -1_000_000_000, 951_782_400, 4_107_542_400,
                                4_102_444_799, 7_258_118_400, 253_402_300_799 - 15 * 3600, -62_135_596_800 + 15 * 3600]
        let nanos: [UInt32] = [0, 1, 999_999_999, 500_000_000, 123_456_789]
        for s in seconds {
            for n in nanos {
                for offset in offsets {
                    let t = Timestamp(seconds: s, nanoseconds: n)
                    let text = RFC3339.format(t, utcOffset: offset)
                    XCTAssertEqual(RFC3339.parse(text), t, text)
                }
            }
        }
    }

    // Every second of a leap day and of the days around it round-trips (a walk across a month boundary).
    func testRoundTripsAcrossLeapDay() {
        let feb28 = Int64(1_709_078_400)  // 2024-02-28T00:00:00Z
        for step in stride(from: Int64(0), to: 3 * 86_400, by: 997) {
            let t = Timestamp(seconds: feb28 + step, nanoseconds: 0)
            XCTAssertEqual(RFC3339.parse(RFC3339.format(t, utcOffset: -19800)), t)
        }
        XCTAssertEqual(RFC3339.format(Timestamp(seconds: feb28 + 86_400, nanoseconds: 0), utcOffset: 0), "2024-02-29T00:00:00Z")
    }
}
