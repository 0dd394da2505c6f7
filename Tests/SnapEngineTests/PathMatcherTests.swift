import XCTest
import SnapEngine

final class PathMatcherTests: XCTestCase {
    /// Whether `patterns` match the entry at `path`, whose base name is its last component.
    private func matches(_ patterns: [String], _ path: [UInt8]) -> Bool {
        let name = Array(path.split(separator: PathBytes.slash).last ?? [])
        return PathMatcher(patterns).matches(path: path, name: name)
    }

    private func matches(_ patterns: [String], _ path: String) -> Bool { matches(patterns, Array(path.utf8)) }

    // A pattern without '/' matches the base name at any depth, and only the whole name.
    func testPatternWithoutSlashMatchesBaseNameAnywhere() {
        XCTAssertTrue(matches(["*.o"], "/main.o"))
        XCTAssertTrue(matches(["*.o"], "/home/a/src/deep/lib.o"))
        XCTAssertFalse(matches(["*.o"], "/home/a/src/lib.c"))
        XCTAssertFalse(matches(["*.o"], "/home/a/x.o/lib.c"), "a matching folder name does not match the entries below it")
        XCTAssertFalse(matches(["*.o"], "/home/a/lib.obj"))
        XCTAssertTrue(matches([".cache"], "/home/a/.cache"))
        XCTAssertTrue(matches([".cache"], "/.cache"))
        XCTAssertFalse(matches([".cache"], "/home/a/.cache2"))
        XCTAssertFalse(matches([".cache"], "/home/a/x.cache"))
        XCTAssertTrue(matches(["?.txt"], "/a/b/c.txt"))
        XCTAssertFalse(matches(["?.txt"], "/a/b/cc.txt"))
        XCTAssertTrue(matches(["[ab]*"], "/x/beta"))
    }

    // A pattern with '/' matches the whole absolute path, not a suffix, so a relative one never matches.
    func testPatternWithSlashMatchesWholePath() {
        XCTAssertTrue(matches(["/home/a/.cache"], "/home/a/.cache"))
        XCTAssertFalse(matches(["/home/a/.cache"], "/home/b/.cache"))
        XCTAssertFalse(matches(["/home/a/.cache"], "/srv/home/a/.cache"))
        XCTAssertFalse(matches(["src/*.o"], "/p/src/x.o"), "patterns with '/' are anchored at the root")
        XCTAssertTrue(matches(["/home/*/.cache"], "/home/a/.cache"))
        XCTAssertTrue(matches(["/tmp/*.log"], "/tmp/x.log"))
    }

    // '*' in a pattern with '/' crosses '/' (documented: /home/*/.cache also matches /home/a/b/.cache).
    func testStarCrossesSlashInPathPatterns() {
        XCTAssertTrue(matches(["/home/*/.cache"], "/home/a/b/.cache"))
        XCTAssertTrue(matches(["/tmp/*.log"], "/tmp/deep/down/x.log"))
        XCTAssertTrue(matches(["/data/*"], "/data/a/b/c"))
        XCTAssertFalse(matches(["/home/*/.cache"], "/home/a/.cache/x"), "the whole path must match, not a prefix")
        XCTAssertFalse(matches(["/data/?"], "/data/a/b"), "'?' matches one byte")
    }

    // Trailing slashes in a pattern are ignored, for name patterns and path patterns alike.
    func testTrailingSlashIsIgnored() {
        XCTAssertTrue(matches(["build/"], "/src/project/build"))
        XCTAssertTrue(matches(["build//"], "/build"))
        XCTAssertTrue(matches(["/srv/data/"], "/srv/data"))
        XCTAssertFalse(matches(["/srv/data/"], "/srv/data2"))
        XCTAssertTrue(matches(["/"], "/"), "the root pattern stays '/'")
    }

    // Names that are not UTF-8 match wildcards byte by byte and literal bytes only themselves.
    func testNonUTF8Names() {
        let latin1 = Array("/data/caf".utf8) + [0xe9]
        XCTAssertTrue(matches(["caf?"], latin1))
        XCTAssertTrue(matches(["*"], latin1))
        XCTAssertTrue(matches(["/data/*"], latin1))
        XCTAssertTrue(matches(["*.o"], Array("/x/".utf8) + [0xff, 0xfe, 0x2e, 0x6f]))
        XCTAssertFalse(matches(["caf\u{e9}"], latin1), "UTF-8 é (two bytes) is not Latin-1 é")
        XCTAssertTrue(matches(["caf\u{e9}"], Array("/data/caf\u{e9}".utf8)))
    }

    // An empty matcher matches nothing; several patterns match when any one does.
    func testEmptyAndSeveralPatterns() {
        XCTAssertTrue(PathMatcher([]).isEmpty)
        XCTAssertFalse(matches([], "/anything"))
        XCTAssertTrue(matches(["*.o", "/keep/*"], "/keep/x"))
        XCTAssertTrue(matches(["*.o", "/keep/*"], "/other/y.o"))
        XCTAssertFalse(matches(["*.o", "/keep/*"], "/other/y.c"))
    }
}

final class PathPatternValidationTests: XCTestCase {
    private func problem(_ pattern: String) -> PathPatternError.Problem? {
        do { try PathMatcher.validate(pattern); return nil } catch { return error.problem }
    }

    // fnmatch's rules: wildcards, classes with negation, ranges and POSIX classes, escapes, '**'.
    func testValidPatternsPass() {
        for pattern in ["*.o", ".cache", "/home/*/.cache", "/srv/**/tmp", "?.txt", "[ab]*", "[!ab]x", "[^ab]x", "[a-z0-9]",
                        "[]]", "[!]]x", "[a-]", "[-a]", "[[:alpha:]_]*", "[[:digit:]]", "\\[literal\\]", "a\\*b", "[\\]]",
                        "[a\\-z]", "[é-ü]", "[[=a=]]", "[[.-.]]", "*"] {
            XCTAssertNil(problem(pattern), pattern)
        }
    }

    // Patterns that fnmatch would read as something else, or that match nothing, are refused with the reason.
    func testInvalidPatternsAreNamed() {
        XCTAssertEqual(problem(""), .empty)
        for pattern in ["[", "[a-", "a[b", "[]", "[!]", "[^", "*.[ch", "[a\\", "[[:alpha:]", "[[:alpha:"] {
            XCTAssertEqual(problem(pattern), .unclosedClass, pattern)
        }
        XCTAssertEqual(problem("[z-a]"), .reversedRange("z-a"))
        XCTAssertEqual(problem("[[:letter:]]"), .unknownClass("letter"))
        XCTAssertEqual(problem("foo\\"), .trailingBackslash)
        do {
            try PathMatcher.validate("[a-")
            XCTFail("accepted")
        } catch {
            XCTAssertEqual(error.description, "pattern '[a-' is not valid: '[' opens a class that no ']' closes (write '\\[' for a literal bracket)")
        }
    }

    // Every pattern that passes works with the matcher as fnmatch reads it.
    func testValidatedPatternsMatchAsDocumented() {
        let matcher = PathMatcher(["[[:digit:]]*.log", "\\[x\\]", "[a-]"])
        XCTAssertTrue(matcher.matches(path: Array("/v/2024.log".utf8), name: Array("2024.log".utf8)))
        XCTAssertTrue(matcher.matches(path: Array("/v/[x]".utf8), name: Array("[x]".utf8)))
        XCTAssertTrue(matcher.matches(path: Array("/v/-".utf8), name: Array("-".utf8)))
        XCTAssertFalse(matcher.matches(path: Array("/v/x.log".utf8), name: Array("x.log".utf8)))
    }
}
