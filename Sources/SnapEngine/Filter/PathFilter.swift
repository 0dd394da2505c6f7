/// The patterns of one set of options (`--exclude`/`--iexclude` and their files, or
/// `--include`/`--iinclude` and theirs), in the order given. As in restic, the
/// case-sensitive and the case-insensitive patterns are two separate lists: a negation
/// (`!`) in one cancels matches of earlier patterns of the same list only.
public struct PatternRules: Sendable, Equatable {
    public var patterns: [PatternText]
    /// Patterns matched with both sides lower-cased (`--iexclude`, `--iinclude`).
    public var insensitivePatterns: [PatternText]

    public init(patterns: [PatternText] = [], insensitivePatterns: [PatternText] = []) {
        self.patterns = patterns
        self.insensitivePatterns = insensitivePatterns
    }

    public var isEmpty: Bool { patterns.isEmpty && insensitivePatterns.isEmpty }

    /// Checks every pattern. Empty patterns are allowed here and ignored by `PathFilter`, as
    /// restic ignores them (an exclude file line whose variables expand to nothing).
    /// - Throws: `FilterPatternError` for the first pattern that cannot be used.
    public func validate() throws(FilterPatternError) {
        for text in patterns + insensitivePatterns where !text.isEmpty { _ = try FilterPattern(text) }
    }
}

/// A pattern that never matched anything the filter was asked about.
public struct UnmatchedPattern: Sendable, Equatable, CustomStringConvertible {
    public let pattern: PatternText
    public let ignoresCase: Bool
    public var description: String { "'\(pattern)'" }
}

/// Decides paths with restic's `filter.List` and `filter.ListWithChild` over `PatternRules`,
/// and remembers which patterns matched something, for the warning about patterns that
/// matched nothing. Not thread-safe: give each walking thread its own.
///
/// Within a list, the patterns are looked at in order: a pattern sets "matched", a
/// negated one (`!...`) clears it again when it matches, so the last matching pattern
/// decides. A path is matched when either list matches it.
public final class PathFilter {
    private struct List {
        var patterns: [FilterPattern]
        var originals: [PatternText]
        var ignoresCase: Bool
        var hasNegation: Bool
        /// Index of this list's first pattern in `seen`.
        var base: Int
    }

    private let lists: [List]
    private var seen: [Bool]
    private var unseen: Int

    /// - Throws: `FilterPatternError` for the first pattern that cannot be used.
    public init(_ rules: PatternRules) throws(FilterPatternError) {
        var lists: [List] = []
        var base = 0
        for (texts, ignoresCase) in [(rules.insensitivePatterns, true), (rules.patterns, false)] {
            let originals = texts.filter { !$0.isEmpty }
            guard !originals.isEmpty else { continue }
            var patterns: [FilterPattern] = []
            for text in originals { patterns.append(try FilterPattern(ignoresCase ? text.lowercased : text)) }
            lists.append(List(patterns: patterns, originals: originals, ignoresCase: ignoresCase,
                              hasNegation: patterns.contains(where: \.isNegated), base: base))
            base += patterns.count
        }
        self.lists = lists
        seen = Array(repeating: false, count: base)
        unseen = base
    }

    public var isEmpty: Bool { lists.isEmpty }

    /// Whether the absolute path is matched (restic's `RejectByPattern` for excludes).
    public func matches(_ path: [UInt8]) -> Bool {
        evaluate(path, withChild: false).matched
    }

    /// Whether the absolute path is matched, and whether an entry below it could be
    /// (restic's `ListWithChild`, which restore's `--include` uses to decide whether to
    /// descend into a folder).
    public func matchesWithChild(_ path: [UInt8]) -> (matched: Bool, childMayMatch: Bool) {
        evaluate(path, withChild: true)
    }

    /// Patterns that matched none of the paths asked about so far, in the order given.
    public var unmatched: [UnmatchedPattern] {
        lists.flatMap { list in
            list.originals.indices.filter { !seen[list.base + $0] }
                .map { UnmatchedPattern(pattern: list.originals[$0], ignoresCase: list.ignoresCase) }
        }
    }

    private func evaluate(_ path: [UInt8], withChild: Bool) -> (matched: Bool, childMayMatch: Bool) {
        var matched = false
        var child = false
        var folded: [[UInt8]]?
        var exact: [[UInt8]]?
        for list in lists {
            let components: [[UInt8]]
            if list.ignoresCase {
                if folded == nil { folded = FilterPattern.split(CaseFolding.lowercased(path)) }
                components = folded ?? []
            } else {
                if exact == nil { exact = FilterPattern.split(path) }
                components = exact ?? []
            }
            let result = evaluate(list, components, withChild: withChild)
            matched = matched || result.matched
            child = child || result.childMayMatch
            if matched && (child || !withChild) && unseen == 0 { break }
        }
        return (matched, child)
    }

    private func evaluate(_ list: List, _ components: [[UInt8]], withChild: Bool) -> (matched: Bool, childMayMatch: Bool) {
        var matched = false
        var child = false
        for (index, pattern) in list.patterns.enumerated() {
            let hit = pattern.matches(components)
            if hit && !seen[list.base + index] {
                seen[list.base + index] = true
                unseen -= 1
            }
            if pattern.isNegated {
                matched = matched && !hit
                child = child && !hit
            } else {
                matched = matched || hit
                child = child || (withChild ? pattern.childMayMatch(components) : true)
                // Without negations nothing later can undo this; go on only to learn which patterns match.
                if matched && child && !list.hasNegation && unseen == 0 { break }
            }
        }
        return (matched, child)
    }
}
