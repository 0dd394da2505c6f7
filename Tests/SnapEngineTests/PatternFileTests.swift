import Foundation
import XCTest
@testable import SnapEngine
import SnapTestSupport

/// Exclude and include files read as restic reads them.
final class PatternFileTests: XCTestCase {
    func testCommentsBlankLinesTrimmingAndCarriageReturns() {
        let text = "# exclude go-files\n*.go\r\n\n   \n  foo/**/bar  \n\t# indented comment\nfoo bar star.txt\n!keep"
        XCTAssertEqual(PatternFile.patterns(in: text, environment: [:]), ["*.go", "foo/**/bar", "foo bar star.txt", "!keep"])
    }

    // os.Expand with restic's mapping: $$ is a dollar, unset variables are empty, bad syntax is dropped.
    func testEnvironmentExpansion() {
        let env = ["HOME": "/home/bob", "USER": "bob", "1": "one"]
        func expand(_ s: String) -> String { PatternFile.expand(s, environment: env) }
        XCTAssertEqual(expand("$HOME/foo"), "/home/bob/foo")
        XCTAssertEqual(expand("/home/${USER}/foo"), "/home/bob/foo")
        XCTAssertEqual(expand("a$$b"), "a$b")
        XCTAssertEqual(expand("$UNSET/x"), "/x")
        XCTAssertEqual(expand("cost$"), "cost$", "a trailing $ stays")
        XCTAssertEqual(expand("a$ b"), "a$ b", "a $ before no name stays")
        XCTAssertEqual(expand("a${}b"), "ab")
        XCTAssertEqual(expand("a${b"), "ab", "'${' without '}' is dropped, as Go does")
        XCTAssertEqual(expand("$1x"), "onex", "a digit is a one-character name")
        XCTAssertEqual(expand("$USER_NAME"), "", "names run over letters, digits and '_'")
    }

    func testByteOrderMarks() {
        XCTAssertEqual(PatternFile.decode([0xEF, 0xBB, 0xBF] + Array("*.o".utf8)), Array("*.o".utf8))
        XCTAssertEqual(PatternFile.decode([0xFF, 0xFE, 0x2A, 0x00, 0x2E, 0x00, 0x6F, 0x00]), Array("*.o".utf8))
        XCTAssertEqual(PatternFile.decode([0xFE, 0xFF, 0x00, 0x2A]), Array("*".utf8))
        XCTAssertNil(PatternFile.decode([0xFF, 0xFE, 0x2A]), "an odd number of bytes after a UTF-16 mark")
    }

    // restic's textfile.Read takes bytes that are not UTF-8 as they are: a Latin-1 line names
    // a Latin-1 file. White space around it is trimmed as Go's TrimSpace does (Unicode spaces
    // that are UTF-8 go, the byte 0xA0 alone is not a space).
    func testLinesThatAreNotUTF8KeepTheirBytes() {
        let file: [UInt8] = Array("  caf".utf8) + [0xE9] + Array(".txt \u{00A0}\n".utf8) + [0xA0, 0x78, 0x0A] + Array("$D/".utf8) + [0xFF]
        XCTAssertEqual(PatternFile.decode(file), file)
        XCTAssertEqual(PatternFile.patterns(in: file, environment: ["D": "/d"]), [
            PatternText(bytes: Array("caf".utf8) + [0xE9] + Array(".txt".utf8)),
            PatternText(bytes: [0xA0, 0x78]),
            PatternText(bytes: Array("/d/".utf8) + [0xFF]),
        ])
    }

    func testUnreadableFileIsAnError() throws {
        XCTAssertThrowsError(try PatternFile.read("/nonexistent/excludes", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/excludes"), "\(error)")
        }
        let dir = try TemporaryDirectory(prefix: "snap-patterns")
        defer { dir.remove() }
        try "$X/a\n#c\n".write(toFile: dir.path + "/f", atomically: false, encoding: .utf8)
        XCTAssertEqual(try PatternFile.read(dir.path + "/f", environment: ["X": "/r"]), ["/r/a"])
    }
}
