/// Why a pattern for `--exclude` or `--include` cannot be used.
public struct PathPatternError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        /// The pattern is empty, so it would match nothing.
        case empty
        /// A `[` has no `]` closing its class.
        case unclosedClass
        /// A range such as `z-a` whose end comes before its start: it matches nothing.
        case reversedRange(String)
        /// `[:name:]` names no POSIX character class.
        case unknownClass(String)
        /// The pattern ends with `\`, which escapes nothing.
        case trailingBackslash
    }

    /// The pattern as given.
    public let pattern: String
    public let problem: Problem

    public var description: String {
        let why: String
        switch problem {
        case .empty: why = "it is empty"
        case .unclosedClass: why = "'[' opens a class that no ']' closes (write '\\[' for a literal bracket)"
        case let .reversedRange(range): why = "the range '\(range)' ends before it starts"
        case let .unknownClass(name): why = "'[:\(name):]' is not a character class"
        case .trailingBackslash: why = "it ends with '\\', which escapes nothing"
        }
        return "pattern '\(pattern)' is not valid: \(why)"
    }
}

extension PathMatcher {
    /// POSIX character classes that `fnmatch` accepts inside brackets.
    private static let classNames: Set<String> = [
        "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "xdigit",
    ]

    /// Checks that `pattern` follows the rules documented in docs/usage.md, which are
    /// `fnmatch`'s without its fallbacks: `*`, `?`, `[...]` (with `!` or `^` to negate,
    /// ranges, `[:class:]`), and `\` to escape the next character.
    ///
    /// `fnmatch` quietly reads a `[` without its `]` as a literal bracket and a trailing `\`
    /// as nothing; such a pattern is almost always a typo, so it is refused here rather
    /// than matching something other than what was meant.
    /// - Throws: `PathPatternError` naming the pattern and what is wrong with it.
    public static func validate(_ pattern: String) throws(PathPatternError) {
        let s = Array(pattern.unicodeScalars)
        func fail(_ problem: PathPatternError.Problem) -> PathPatternError { PathPatternError(pattern: pattern, problem: problem) }
        guard !s.isEmpty else { throw fail(.empty) }
        var i = 0
        while i < s.count {
            switch s[i] {
            case "\\":
                guard i + 1 < s.count else { throw fail(.trailingBackslash) }
                i += 2
            case "[":
                i = try classEnd(s, from: i + 1, fail: fail)
            default:
                i += 1
            }
        }
    }

    /// Validates the bracket expression whose body starts at `start` (just after `[`) and
    /// returns the index just past its closing `]`.
    private static func classEnd(_ s: [Unicode.Scalar], from start: Int,
                                 fail: (PathPatternError.Problem) -> PathPatternError) throws(PathPatternError) -> Int {
        var i = start
        if i < s.count && (s[i] == "!" || s[i] == "^") { i += 1 }
        let firstMember = i
        /// The previous member, when it was a single character that may start a range.
        var previous: Unicode.Scalar?
        while i < s.count {
            let c = s[i]
            if c == "]" && i > firstMember { return i + 1 }
            if c == "[" && i + 1 < s.count && [":", "=", "."].contains(s[i + 1]) {
                let delimiter = s[i + 1]
                var j = i + 2
                while j + 1 < s.count && !(s[j] == delimiter && s[j + 1] == "]") { j += 1 }
                guard j + 1 < s.count else { throw fail(.unclosedClass) }
                if delimiter == ":" {
                    let name = String(String.UnicodeScalarView(s[(i + 2)..<j]))
                    guard classNames.contains(name) else { throw fail(.unknownClass(name)) }
                }
                previous = nil
                i = j + 2
                continue
            }
            if c == "-", let low = previous, i + 1 < s.count, s[i + 1] != "]" {
                var highIndex = i + 1
                if s[highIndex] == "\\" { highIndex += 1 }
                guard highIndex < s.count else { throw fail(.unclosedClass) }
                let high = s[highIndex]
                guard low.value <= high.value else { throw fail(.reversedRange("\(low)-\(high)")) }
                previous = nil
                i = highIndex + 1
                continue
            }
            if c == "\\" {
                guard i + 1 < s.count else { throw fail(.unclosedClass) }
                previous = s[i + 1]
                i += 2
                continue
            }
            previous = c
            i += 1
        }
        throw fail(.unclosedClass)
    }
}
