import XCTest
@testable import SnapRestic

final class GoQuotedNameTests: XCTestCase {
    // Go's strconv.Quote forms, as restic writes names, back to their bytes.
    func testEscapes() throws {
        XCTAssertEqual(try GoQuotedName.unquote("plain.txt"), Array("plain.txt".utf8))
        XCTAssertEqual(try GoQuotedName.unquote(#"caf\xe9\xff"#), [0x63, 0x61, 0x66, 0xe9, 0xff])
        XCTAssertEqual(try GoQuotedName.unquote(#"a\"b\\c\nd\te"#), Array("a\"b\\c\nd\te".utf8))
        XCTAssertEqual(try GoQuotedName.unquote(#"\a\b\f\r\v"#), [7, 8, 12, 13, 11])
        XCTAssertEqual(try GoQuotedName.unquote("café 東京"), Array("café 東京".utf8))
        XCTAssertEqual(try GoQuotedName.unquote(#"\u200b\U0001f600"#), Array("\u{200b}\u{1f600}".utf8))
        XCTAssertEqual(try GoQuotedName.unquote(#"\101\377"#), [0x41, 0xff])
    }

    func testMalformedEscapesAreRefused() {
        for bad in [#"ends\"#, #"\x4"#, #"\xzz"#, #"\q"#, #"\ud800"#, #"\400"#] {
            XCTAssertThrowsError(try GoQuotedName.unquote(bad), bad)
        }
    }
}

final class ResticTimeTests: XCTestCase {
    func testParsesRFC3339Nano() throws {
        let utc = try XCTUnwrap(ResticTime("2026-12-05T00:31:26.914523148Z"))
        XCTAssertEqual(utc.seconds, 1_796_430_686)
        XCTAssertEqual(utc.nanoseconds, 914_523_148)
        let offset = try XCTUnwrap(ResticTime("2015-01-02T18:10:50.8952+01:00"))
        XCTAssertEqual(offset.seconds, 1_420_218_650)
        XCTAssertEqual(offset.nanoseconds, 895_200_000)
        XCTAssertEqual(ResticTime("1970-01-01T00:00:00Z")?.seconds, 0)
        XCTAssertEqual(ResticTime("0001-01-01T00:00:00Z")?.seconds, -62_135_596_800)
        for bad in ["", "2015-01-02", "2015-01-02T18:10:50", "2015-13-02T18:10:50Z", "2015-01-02T18:10:50.Z", "2015-01-02T18:10:50Zjunk"] {
            XCTAssertNil(ResticTime(bad), bad)
        }
    }
}
