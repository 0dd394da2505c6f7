import XCTest
@testable import SnapEngine

/// restic's own tables from `internal/filter/filter_test.go` (`matchTests`, `childMatchTests`,
/// `filterListTests`), kept as facts: snap's patterns must decide each row as restic does.
/// Rows with the empty pattern are left out: restic's `Match("", …)` is true by convention,
/// and its pattern lists skip empty patterns (tested below through `PathFilter`).
final class FilterPatternTests: XCTestCase {
    private func match(_ pattern: String, _ path: String) throws -> Bool {
        try FilterPattern(pattern).matches(FilterPattern.split(Array(path.utf8)))
    }

    private func childMatch(_ pattern: String, _ path: String) throws -> Bool {
        try FilterPattern(pattern).childMayMatch(FilterPattern.split(Array(path.utf8)))
    }

    static let matchTests: [(String, String, Bool)] = [
        ("*.go", "/foo/bar/test.go", true),
        ("*.c", "/foo/bar/test.go", false),
        ("*", "/foo/bar/test.go", true),
        ("**", "/foo/bar/test.go", true),
        ("foo*", "/foo/bar/test.go", true),
        ("bar*", "/foo/bar/test.go", true),
        ("/bar*", "/foo/bar/test.go", false),
        ("bar/*", "/foo/bar/test.go", true),
        ("baz/*", "/foo/bar/test.go", false),
        ("bar/test.go", "/foo/bar/test.go", true),
        ("bar/*.go", "/foo/bar/test.go", true),
        ("ba*/*.go", "/foo/bar/test.go", true),
        ("bb*/*.go", "/foo/bar/test.go", false),
        ("test.*", "/foo/bar/test.go", true),
        ("tesT.*", "/foo/bar/test.go", false),
        ("bar/*", "/foo/bar/baz", true),
        ("bar", "/foo/bar", true),
        ("/foo/bar", "/foo/bar", true),
        ("/foo/bar/", "/foo/bar", true),
        ("/foo/bar", "/foo/baz", false),
        ("/foo/bar", "/foo/baz/", false),
        ("/foo///bar", "/foo/bar", true),
        ("/foo/../bar", "/foo/bar", false),
        ("/foo/../bar", "/bar", true),
        ("/foo", "/foo/baz", true),
        ("/foo/", "/foo/baz", true),
        ("/foo/*", "/foo", false),
        ("/foo/*", "/foo/baz", true),
        ("bar", "/foo/bar/baz", true),
        ("bar", "/foo/bar/test.go", true),
        ("/foo/*test.*", "/foo/bar/test.go", false),
        ("/foo/*/test.*", "/foo/bar/test.go", true),
        ("/foo/*/bar/test.*", "/foo/bar/test.go", false),
        ("/*/*/bar/test.*", "/foo/bar/test.go", false),
        ("/*/*/bar/test.*", "/foo/bar/baz/test.go", false),
        ("/*/*/baz/test.*", "/foo/bar/baz/test.go", true),
        ("/*/foo/bar/test.*", "/foo/bar/baz/test.go", false),
        ("/foo/bar/test.*", "bar/baz/test.go", false),
        ("/x/y/bar/baz/test.*", "bar/baz/test.go", false),
        ("/x/y/bar/baz/test.c", "bar/baz/test.go", false),
        ("baz/test.*", "bar/baz/test.go", true),
        ("baz/tesT.*", "bar/baz/test.go", false),
        ("test.go", "bar/baz/test.go", true),
        ("*.go", "bar/baz/test.go", true),
        ("*.c", "bar/baz/test.go", false),
        ("sdk", "/foo/bar/sdk", true),
        ("sdk", "/foo/bar/sdk/test/sdk_foo.go", true),
        ("sdk/*/cpp/*/*vars*.html", "/usr/share/doc/libreoffice/sdk/docs/cpp/ref/a00517.html", false),
        ("foo/**/bar/*.go", "/home/user/foo/work/special/project/bar/test.go", true),
        ("foo/**/bar/*.go", "/home/user/foo/bar/test.go", true),
        ("foo/**/bar/*.go", "x/foo/bar/test.go", true),
        ("foo/**/bar/*.go", "foo/bar/test.go", true),
        ("foo/**/bar/*.go", "foo/bar/baz/bar/test.go", true),
        ("foo/**/bar/*.go", "/home/user/foo/test.c", false),
        ("foo/**/bar/*.go", "bar/foo/main.go", false),
        ("foo/**/bar/*.go", "/foo/bar/main.go", true),
        ("foo/**/bar/*.go", "bar/main.go", false),
        ("foo/**/bar", "/home/user/foo/x/y/bar", true),
        ("foo/**/bar", "/home/user/foo/x/y/bar/main.go", true),
        ("foo/**/bar/**/x", "/home/user/foo/bar/x", true),
        ("foo/**/bar/**/x", "/home/user/foo/blaaa/blaz/bar/shared/work/x", true),
        ("user/**/important*", "/home/user/work/x/y/hidden/x", false),
        ("user/**/hidden*/**/c", "/home/user/work/x/y/hidden/z/a/b/c", true),
        ("c:/foo/*test.*", "c:/foo/bar/test.go", false),
        ("c:/foo", "c:/foo/bar", true),
        ("c:/foo/", "c:/foo/bar", true),
        ("c:/foo/*/test.*", "c:/foo/bar/test.go", true),
        ("c:/foo/*/bar/test.*", "c:/foo/bar/test.go", false),
    ]

    static let childMatchTests: [(String, String, Bool)] = [
        ("foo/bar", "/foo", true),
        ("baz/bar", "/foo", true),
        ("foo", "/foo/bar", true),
        ("bar", "/foo", true),
        ("baz", "/foo/bar", true),
        ("*", "/foo", true),
        ("*", "/foo/bar", true),
        ("/foo/bar", "/foo", true),
        ("/foo/bar/baz", "/foo", true),
        ("/foo/bar/baz", "/foo/bar", true),
        ("/foo/bar/baz", "/foo/baz", false),
        ("/foo/**/baz", "/foo/bar/baz", true),
        ("/foo/**/baz", "/foo/bar/baz/blah", true),
        ("/foo/**/qux", "/foo/bar/baz/qux", true),
        ("/foo/**/qux", "/foo/bar/baz", true),
        ("/foo/**/qux", "/foo/bar/baz/boo", true),
        ("/foo/**", "/foo/bar/baz", true),
        ("/foo/**", "/foo/bar", true),
        ("foo/**/bar/**/x", "/home/user/foo", true),
        ("foo/**/bar/**/x", "/home/user/foo/bar", true),
        ("foo/**/bar/**/x", "/home/user/foo/blaaa/blaz/bar/shared/work/x", true),
        ("/foo/*/qux", "/foo/bar", true),
        ("/foo/*/qux", "/foo/bar/boo", false),
        ("/foo/*/qux", "/foo/bar/boo/xx", false),
        ("/baz/bar", "/foo", false),
        ("/foo", "/foo/bar", true),
        ("/*", "/foo", true),
        ("/*", "/foo/bar", true),
        ("/**", "/foo", true),
        ("/*/**", "/foo", true),
        ("/*/**", "/foo/bar", true),
        ("/*/bar", "/foo", true),
        ("/bar/*", "/foo", false),
        ("/foo/*/baz", "/foo/bar", true),
        ("/foo/*/baz", "/foo/baz", true),
        ("/foo/*/baz", "/bar/baz", false),
        ("/**/*", "/foo", true),
        ("/**/bar", "/foo/bar", true),
    ]

    static let listTests: [([String], String, Bool, Bool)] = [
        ([], "/foo/bar/test.go", false, false),
        (["*.go"], "/foo/bar/test.go", true, true),
        (["*.go"], "/foo/bar", false, true),
        (["*.c"], "/foo/bar/test.go", false, true),
        (["*.go", "*.c"], "/foo/bar/test.go", true, true),
        (["*"], "/foo/bar/test.go", true, true),
        (["x"], "/foo/bar/test.go", false, true),
        (["?"], "/foo/bar/test.go", false, true),
        (["?", "x"], "/foo/bar/x", true, true),
        (["/*/*/bar/test.*"], "/foo/bar/test.go", false, false),
        (["/*/*/bar/test.*"], "/foo/bar/bar", false, true),
        (["/*/*/bar/test.*", "*.go"], "/foo/bar/test.go", true, true),
        (["", "*.c"], "/foo/bar/test.go", false, true),
        (["/foo/bar/*"], "/foo", false, true),
        (["/foo/**/test.c"], "/foo/bar/foo/bar/test.c", true, true),
        (["/foo/*/test.c"], "/foo/bar/foo/bar/test.c", false, false),
    ]

    func testResticMatchTable() throws {
        for (pattern, path, expected) in Self.matchTests {
            XCTAssertEqual(try match(pattern, path), expected, "Match(\(pattern), \(path))")
        }
    }

    func testResticChildMatchTable() throws {
        for (pattern, path, expected) in Self.childMatchTests {
            XCTAssertEqual(try childMatch(pattern, path), expected, "ChildMatch(\(pattern), \(path))")
        }
    }

    func testResticListTable() throws {
        for (patterns, path, matched, child) in Self.listTests {
            let filter = try PathFilter(PatternRules(patterns: patterns.map { PatternText($0) }))
            XCTAssertEqual(filter.matches(Array(path.utf8)), matched, "List(\(patterns), \(path))")
            let both = filter.matchesWithChild(Array(path.utf8))
            XCTAssertEqual(both.matched, matched, "ListWithChild(\(patterns), \(path))")
            XCTAssertEqual(both.childMayMatch, child, "ListWithChild(\(patterns), \(path)) child")
        }
    }

    // restic's ExampleMatch_wildcards, and the issue #18 cases: a relative pattern with '/'
    // matches consecutive components anywhere, not only a whole path.
    func testWildcardsAndSuffixPatterns() throws {
        XCTAssertTrue(try match("/home/[uU]ser/?.go", "/home/user/F.go"))
        XCTAssertTrue(try match("py311/config-3.11-x86_64-linux-gnu", "/srv/venv/lib/py311/config-3.11-x86_64-linux-gnu"))
        XCTAssertTrue(try match("py311/config-3.11-x86_64-linux-gnu", "/srv/venv/lib/py311/config-3.11-x86_64-linux-gnu/Makefile"))
        XCTAssertTrue(try match("me/Documents", "/home/me/Documents/notes.txt"))
        XCTAssertFalse(try match("me/Documents", "/home/me/Documents2/notes.txt"))
        XCTAssertFalse(try match("foo", "/dir/foobar"), "patterns match whole components")
        XCTAssertFalse(try match("b*ash", "/bin/ash"), "'*' does not cross '/'")
        XCTAssertTrue(try match("b*ash", "/bin/bash"))
        XCTAssertFalse(try match("/bin", "/usr/bin/restic"), "a leading '/' anchors")
        XCTAssertTrue(try match("/bin", "/bin/bash"))
    }

    // restic's docs: the negation example; the last matching pattern decides within one list.
    func testNegationLastMatchWins() throws {
        let filter = try PathFilter(PatternRules(patterns: ["/home/u/*", "!/home/u/Documents", "!/home/u/code", "*~"]))
        func excluded(_ path: String) -> Bool { filter.matches(Array(path.utf8)) }
        XCTAssertTrue(excluded("/home/u/Music"))
        XCTAssertFalse(excluded("/home/u/Documents"))
        XCTAssertFalse(excluded("/home/u/code"))
        XCTAssertTrue(excluded("/home/u/code/x.c~"), "a later pattern excludes again")
        XCTAssertFalse(excluded("/home/u"))
        let reversed = try PathFilter(PatternRules(patterns: ["!/home/u/Documents", "/home/u/*"]))
        XCTAssertTrue(reversed.matches(Array("/home/u/Documents".utf8)), "a negation only cancels earlier matches")
        // Case-sensitive and case-insensitive patterns are separate lists, as in restic.
        let split = try PathFilter(PatternRules(patterns: ["!/x/Keep"], insensitivePatterns: ["/x/*"]))
        XCTAssertTrue(split.matches(Array("/x/Keep".utf8)))
        // A negated include stops the descent into what it matches.
        let include = try PathFilter(PatternRules(patterns: ["/a", "!/a/b"]))
        XCTAssertTrue(include.matchesWithChild(Array("/a/c".utf8)) == (true, true))
        XCTAssertTrue(include.matchesWithChild(Array("/a/b".utf8)) == (false, false))
    }

    // Go's filepath.Match rules for one component, and the patterns it calls malformed.
    func testComponentGlobRules() throws {
        XCTAssertTrue(try match("[^a]x", "/bx"))
        XCTAssertFalse(try match("[^a]x", "/ax"))
        XCTAssertTrue(try match("[!a]", "/!"), "'!' does not negate a class in Go")
        XCTAssertTrue(try match("[a-c]*", "/beta"))
        XCTAssertTrue(try match("\\*", "/*"))
        XCTAssertFalse(try match("\\*", "/x"))
        XCTAssertTrue(try match("[\\]]", "/]"))
        XCTAssertTrue(try match("a]b", "/a]b"))
        XCTAssertTrue(try match("caf?", "/caf\u{e9}"), "'?' takes one character, not one byte")
        XCTAssertTrue(try match("[\u{e0}-\u{ff}]", "/\u{e9}"))
        for bad in ["[", "a[", "[]", "[^]", "[a-]", "[.-]", "*[._]log[.-][0-9]", "x\\", "test/**/["] {
            XCTAssertThrowsError(try FilterPattern(bad), bad)
        }
        XCTAssertThrowsError(try FilterPattern("")) { XCTAssertEqual(($0 as? FilterPatternError)?.problem, .empty) }
        XCTAssertEqual(try? FilterPattern("[").text, nil)
    }

    // Names that are not UTF-8: '?' and '*' take an invalid byte as one character, literals only themselves.
    func testNonUTF8Names() throws {
        let latin1: [UInt8] = Array("/data/caf".utf8) + [0xE9]
        XCTAssertTrue(try FilterPattern("caf?").matches(FilterPattern.split(latin1)))
        XCTAssertTrue(try FilterPattern("/data/*").matches(FilterPattern.split(latin1)))
        XCTAssertFalse(try FilterPattern("caf\u{e9}").matches(FilterPattern.split(latin1)))
        XCTAssertFalse(try FilterPattern("caf??").matches(FilterPattern.split(latin1)))
    }

    // --iexclude lower-cases both sides, invalid bytes kept.
    func testCaseInsensitive() throws {
        let filter = try PathFilter(PatternRules(insensitivePatterns: ["*.JPG", "/Photos/ÄRGER"]))
        XCTAssertTrue(filter.matches(Array("/x/IMG.jpg".utf8)))
        XCTAssertTrue(filter.matches(Array("/photos/ärger/a".utf8)))
        XCTAssertFalse(filter.matches(Array("/x/IMG.png".utf8)))
        XCTAssertEqual(CaseFolding.lowercased([0x41, 0xFF, 0xC3, 0x84]), [0x61, 0xFF, 0xC3, 0xA4])
    }

    // Patterns that never matched are reported, in order, with their case rule.
    // A pattern's bytes need not be UTF-8: they match a name's bytes as they are, as restic's
    // do, and the Latin-1 byte is neither U+FFFD nor the UTF-8 spelling of the same letter.
    func testPatternBytesThatAreNotUTF8() throws {
        let latin: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".txt".utf8)
        let pattern = try FilterPattern(PatternText(bytes: latin))
        XCTAssertEqual(pattern.text, "caf\\xe9.txt")
        XCTAssertTrue(pattern.matches(FilterPattern.split(Array("/home/".utf8) + latin)))
        XCTAssertFalse(pattern.matches(FilterPattern.split(Array("/home/caf\u{FFFD}.txt".utf8))))
        XCTAssertFalse(pattern.matches(FilterPattern.split(Array("/home/café.txt".utf8))))
        let glob = try FilterPattern(PatternText(bytes: Array("ca?".utf8) + [0xE9] + Array("*".utf8)))
        XCTAssertTrue(glob.matches(FilterPattern.split(Array("/home/".utf8) + latin)))
        let upper = PatternText(bytes: Array("CAF".utf8) + [0xE9] + Array(".TXT".utf8))
        let filter = try PathFilter(PatternRules(insensitivePatterns: [upper]))
        XCTAssertTrue(filter.matches(Array("/home/".utf8) + latin))
        XCTAssertEqual(PatternText(bytes: [0x61, 0xFF]).description, "a\\xff")
    }

    func testUnmatchedPatterns() throws {
        let filter = try PathFilter(PatternRules(patterns: ["*.o", "nothing", "*"], insensitivePatterns: ["X"]))
        _ = filter.matches(Array("/a/b.o".utf8))
        XCTAssertEqual(filter.unmatched, [UnmatchedPattern(pattern: "X", ignoresCase: true),
                                          UnmatchedPattern(pattern: "nothing", ignoresCase: false)])
    }

    // find's rule: the pattern must end at the entry itself.
    func testMatchesEntry() throws {
        let split = { (p: String) in FilterPattern.split(Array(p.utf8)) }
        XCTAssertTrue(try FilterPattern("bar/*.go").matchesEntry(split("/foo/bar/test.go")))
        XCTAssertFalse(try FilterPattern("bar").matchesEntry(split("/foo/bar/test.go")))
        XCTAssertTrue(try FilterPattern("/foo/**/*.go").matchesEntry(split("/foo/a/b/test.go")))
        XCTAssertFalse(try FilterPattern("/foo").matchesEntry(split("/foo/bar")))
        // The root is no one-character name: `?/tmp`, `?/**` and `**/?/tmp` match nothing here.
        XCTAssertFalse(try FilterPattern("?/tmp").matchesEntry(split("/tmp")))
        XCTAssertFalse(try FilterPattern("?/**").matchesEntry(split("/tmp/xy")))
        XCTAssertFalse(try FilterPattern("**/?/tmp").matchesEntry(split("/tmp")))
        XCTAssertTrue(try FilterPattern("?/tmp").matchesEntry(split("/a/tmp")))
        XCTAssertTrue(try FilterPattern("**/tmp").matchesEntry(split("/tmp")))
        XCTAssertTrue(try FilterPattern("/**").matchesEntry(split("/tmp/x")))
    }

    // The table-driven matcher decides as restic's expansion of `**` into `*`s does (the
    // matcher before it, kept here as the reference), on random patterns and paths:
    // anchored or not, several `**`s, globs, whole-entry and child questions.
    func testMatcherAgreesWithRestictsExpansionOnRandomPatterns() throws {
        func reference(_ parts: ArraySlice<FilterPattern.Part>, _ path: [[UInt8]], toEnd: Bool) -> Bool {
            if let star = parts.firstIndex(of: .anyDepth) {
                let before = parts[..<star], after = parts[(star + 1)...]
                let most = path.count - parts.count + 1
                guard most >= 0 else { return false }
                for stars in 0...most {
                    let expanded = before + Array(repeating: FilterPattern.Part.glob(Array("*".utf8)), count: stars) + after
                    if reference(expanded[...], path, toEnd: toEnd) { return true }
                }
                return false
            }
            if parts.isEmpty { return path.isEmpty }
            guard parts.count <= path.count else { return false }
            let anchored = parts.first == .root
            let highest = anchored ? 0 : path.count - parts.count
            let belowRoot = !anchored && path.first == [PathBytes.slash] ? 1 : 0
            let lowest = toEnd ? max(path.count - parts.count, belowRoot) : belowRoot
            guard highest >= lowest else { return false }
            return (lowest...highest).contains { offset in
                zip(parts, path[offset...]).allSatisfy { part, component in
                    switch part {
                    case .root: return component == [PathBytes.slash]
                    case let .literal(bytes): return bytes == component
                    case let .glob(pattern): return ComponentGlob.matches(pattern, component)
                    case .anyDepth: return false
                    }
                }
            }
        }
        var state: UInt64 = 0x5eed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let words = ["a", "b", "ab", "*", "?", "a*", "**", "**", "[ab]"], names = ["a", "b", "ab", "ba", "x"]
        var compared = 0
        for _ in 0..<4000 {
            let text = (next(3) == 0 ? "/" : "") + (0..<(1 + next(5))).map { _ in words[next(words.count)] }.joined(separator: "/")
            let pattern = try FilterPattern(text)
            for _ in 0..<6 {
                let path = FilterPattern.split(Array(("/" + (0..<next(8)).map { _ in names[next(names.count)] }.joined(separator: "/")).utf8))
                for toEnd in [false, true] {
                    XCTAssertEqual(pattern.match(first: pattern.parts.count, path, toEnd: toEnd), reference(pattern.parts[...], path, toEnd: toEnd),
                                   "\(text) on \(path.map { String(decoding: $0, as: UTF8.self) }) toEnd \(toEnd)")
                    compared += 1
                }
                XCTAssertEqual(pattern.childMayMatch(path), {
                    guard pattern.isAnchored else { return true }
                    var prefix = path[...]
                    if let star = pattern.parts.firstIndex(of: .anyDepth), prefix.count >= star { prefix = prefix.prefix(star) }
                    return reference(pattern.parts.prefix(prefix.count), Array(prefix), toEnd: false)
                }(), "\(text) child")
            }
        }
        XCTAssertEqual(compared, 48_000)
    }
}
