/// Why a pattern for `--exclude`, `--include` and their kin cannot be used.
public struct FilterPatternError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        /// The pattern is empty.
        case empty
        /// A `[` class that is not closed, is empty, or holds an unescaped `-` or `]` where a
        /// character belongs (Go's `filepath.Match` rules).
        case badClass
        /// The pattern ends with `\`, which escapes nothing.
        case trailingBackslash
    }

    /// The pattern as given.
    public let pattern: String
    public let problem: Problem

    public init(pattern: String, problem: Problem) {
        self.pattern = pattern
        self.problem = problem
    }

    public var description: String {
        let why: String
        switch problem {
        case .empty: why = "it is empty"
        case .badClass:
            why = "a '[' class is not closed by ']', is empty, or has '-' or ']' where a character belongs (write '\\[' for a literal bracket)"
        case .trailingBackslash: why = "it ends with '\\', which escapes nothing"
        }
        return "pattern '\(pattern)' is not valid: \(why)"
    }
}

/// One pattern with restic's rules (its `internal/filter`), parsed once.
///
/// The pattern is cleaned as Go's `filepath.Clean` does (repeated and trailing `/`, `.` and
/// `..` removed), then split at `/`. Each component matches one path component with Go's
/// `filepath.Match` rules (`*`, `?`, `[...]`, `\`); a component `**` matches any number of
/// components, none included. A pattern that starts with `/` is anchored: it must match
/// from the first component on. Any other pattern matches a run of consecutive components
/// anywhere in the path, so `foo` matches `/a/foo` and `/a/foo/b`, and `py311/config`
/// matches `/x/py311/config/y`. A leading `!` negates the pattern (see `PathFilter`).
public struct FilterPattern: Sendable, Hashable {
    enum Part: Sendable, Hashable {
        /// The root marker of an anchored pattern.
        case root
        /// `**`: any number of components.
        case anyDepth
        case literal([UInt8])
        case glob([UInt8])
    }

    /// The pattern as given, `!` included (bytes that are not UTF-8 as `\xNN`).
    public let text: String
    /// Whether the pattern started with `!`.
    public let isNegated: Bool
    let parts: [Part]
    /// For each part index `p` (and `parts.count`): how many `**`s come before it. Fixed by
    /// the pattern, so matching a path allocates nothing for it.
    private let starsBefore: [Int]

    /// Parses `text`.
    /// - Throws: `FilterPatternError` when it is empty or a component is malformed for
    ///   Go's `filepath.Match` (restic refuses such patterns before it starts).
    public init(_ text: String) throws(FilterPatternError) {
        try self.init(PatternText(text))
    }

    /// Parses the pattern's bytes, which need not be UTF-8 (restic matches bytes).
    /// - Throws: as `init(_:)`.
    public init(_ pattern: PatternText) throws(FilterPatternError) {
        let text = pattern.description
        guard !pattern.isEmpty else { throw FilterPatternError(pattern: text, problem: .empty) }
        self.text = text
        var bytes = pattern.bytes
        isNegated = bytes.first == UInt8(ascii: "!")
        if isNegated { bytes.removeFirst() }
        var parts: [Part] = []
        for component in Self.split(Self.clean(bytes)) {
            if component == [PathBytes.slash] && parts.isEmpty {
                parts.append(.root)
            } else if component == Array("**".utf8) {
                parts.append(.anyDepth)
            } else if component.isEmpty {
                // Only "/" cleans to a root followed by an empty component; restic reads
                // that empty component as "**", so "/" matches everything.
                parts.append(.anyDepth)
            } else if ComponentGlob.isLiteral(component) {
                parts.append(.literal(component))
            } else {
                if let problem = ComponentGlob.problem(in: component) { throw FilterPatternError(pattern: text, problem: problem) }
                parts.append(.glob(component))
            }
        }
        self.parts = parts
        var starsBefore = [0]
        for part in parts { starsBefore.append(starsBefore[starsBefore.count - 1] + (part == .anyDepth ? 1 : 0)) }
        self.starsBefore = starsBefore
    }

    var isAnchored: Bool { parts.first == .root }

    /// A path split as restic splits it: at every `/`, empty components kept, and the empty
    /// first component of an absolute path made the root marker `/`.
    public static func split(_ path: [UInt8]) -> [[UInt8]] {
        var components = path.split(separator: PathBytes.slash, omittingEmptySubsequences: false).map(Array.init)
        if components.first?.isEmpty == true { components[0] = [PathBytes.slash] }
        return components
    }

    /// Whether the path (split by `split`) matches.
    public func matches(_ components: [[UInt8]]) -> Bool {
        match(first: parts.count, components, toEnd: false)
    }

    /// Whether the path (split by `split`) matches with the pattern's last component on the
    /// path's last one: the entry itself matches, not only a folder above it (`snap find`).
    public func matchesEntry(_ components: [[UInt8]]) -> Bool {
        match(first: parts.count, components, toEnd: true)
    }

    /// Whether the pattern is a single component without `**` (it can only ever match one name).
    public var isNamePattern: Bool {
        guard parts.count == 1 else { return false }
        if case .anyDepth = parts[0] { return false }
        return parts[0] != .root
    }

    /// Whether an entry below the path (split by `split`) could match: restic's `ChildMatch`.
    /// Always true for a pattern that is not anchored; for an anchored one, whether the path
    /// matches the pattern's leading components (up to its first `**`).
    public func childMayMatch(_ components: [[UInt8]]) -> Bool {
        guard isAnchored else { return true }
        var path = components[...]
        if let star = parts.firstIndex(of: .anyDepth), path.count >= star { path = path.prefix(star) }
        return match(first: min(path.count, parts.count), Array(path), toEnd: false)
    }

    /// restic's `match`: each `**` stands for zero, one, two... `*` components; then the
    /// pattern must match consecutive components, from the first for an anchored pattern,
    /// anywhere after the root marker for one that is not, and (`toEnd`) up to the last.
    ///
    /// restic builds every expansion of the `**`s, the first one first, and bounds each by
    /// the path's length less the parts still in the pattern (each `**` not yet expanded
    /// counting as one): after `j` of them, the `*`s they became number at most
    /// `path.count - parts.count + j`. The same answers come here without building anything:
    /// for each place the pattern may start, `at(p, c)` says whether parts `p...` match from
    /// component `c` on, each answer kept in a table of parts × components. A path then costs
    /// parts × components steps per start, where the expansions cost a pattern of two `**`s
    /// the cube of the path's depth in allocations (campaign 11).
    ///
    /// - Parameter total: how many of the pattern's parts take part (`childMayMatch` asks
    ///   about the leading ones).
    func match(first total: Int, _ path: [[UInt8]], toEnd: Bool) -> Bool {
        guard total > 0 else { return path.isEmpty }
        let parts = self.parts[..<total]
        let n = path.count
        let anchored = parts[0] == .root
        // A pattern that is not anchored never matches the root marker, at the end either
        // (`find '?/tmp'` found `/tmp`, taking `/` for a one-character name).
        let belowRoot = !anchored && path.first == [PathBytes.slash] ? 1 : 0
        // A literal component the path does not hold anywhere: no match, found without the
        // table (most paths, for an exclude such as `**/node_modules/**`).
        for case let .literal(bytes) in parts where !path.contains(bytes) { return false }
        if starsBefore[total] == 0 {
            // No `**`: the parts against consecutive components, nothing to remember.
            guard total <= n else { return false }
            let highest = anchored ? 0 : n - total
            let lowest = toEnd ? max(n - total, belowRoot) : belowRoot
            guard highest >= lowest else { return false }
            return (lowest...highest).contains { offset in
                zip(parts, path[offset...]).allSatisfy { part, component in Self.matches(part, component) }
            }
        }
        let fixedTotal = total - starsBefore[total]
        let columns = n + 1
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total * columns) { known in
            func startsAt(_ start: Int) -> Bool {
                known.initialize(repeating: 0)  // 0 not yet known, 1 no, 2 yes
                func at(_ p: Int, _ c: Int) -> Bool {
                    if p == total {
                        guard !toEnd || c == n else { return false }
                        // Every `**` became nothing and nothing else is left: restic's empty
                        // pattern, which matches an empty path only.
                        return c > start || fixedTotal > 0 || path.isEmpty
                    }
                    let key = p * columns + c
                    if known[key] != 0 { return known[key] == 2 }
                    let part = parts[p]
                    var result = false
                    if part == .anyDepth {
                        // The `*`s of this and the earlier `**`s, within restic's bound for this
                        // one (the `starsBefore[p] + 1`th).
                        let expanded = c - start - (p - starsBefore[p])
                        let bound = n - total + starsBefore[p] + 1
                        if expanded <= bound && at(p + 1, c) {
                            result = true
                        } else if c < n, path[c] != [PathBytes.slash], expanded + 1 <= bound {
                            result = at(p, c + 1)  // one more `*`, which takes any component but the root marker
                        }
                    } else {
                        result = c < n && Self.matches(part, path[c]) && at(p + 1, c + 1)
                    }
                    known[key] = result ? 2 : 1
                    return result
                }
                return at(0, start)
            }
            if anchored { return startsAt(0) }
            return (belowRoot...max(belowRoot, n)).contains { startsAt($0) }
        }
    }

    private static func matches(_ part: Part, _ component: [UInt8]) -> Bool {
        switch part {
        case .root: return component == [PathBytes.slash]
        case let .literal(bytes): return bytes == component
        case let .glob(pattern): return ComponentGlob.matches(pattern, component)
        case .anyDepth: return false  // expanded before comparing
        }
    }

    /// Go's `filepath.Clean` on bytes.
    static func clean(_ path: [UInt8]) -> [UInt8] {
        let slash = PathBytes.slash
        let dot = UInt8(ascii: ".")
        let rooted = path.first == slash
        var kept: [[UInt8]] = []
        for component in path.split(separator: slash, omittingEmptySubsequences: true) {
            if component.elementsEqual([dot]) { continue }
            if component.elementsEqual([dot, dot]) {
                if let last = kept.last, last != [dot, dot] {
                    kept.removeLast()
                } else if !rooted {
                    kept.append([dot, dot])
                }
                continue
            }
            kept.append(Array(component))
        }
        let body = Array(kept.joined(separator: [slash]))
        if rooted { return [slash] + body }
        return body.isEmpty ? [dot] : body
    }
}
