/// Go's `filepath.Match` rules for one path component, on bytes.
///
/// - `*` matches any run of bytes, `?` one character (a UTF-8 sequence, or one byte that
///   is not valid UTF-8);
/// - `[...]` a character class: ranges `a-z`, `^` after `[` to negate, `\` to escape;
///   a class must hold at least one member, and `-` or `]` as a member must be escaped;
/// - `\c` the character `c`; every other byte itself.
///
/// Go reads a `[` without its `]`, a class with an unescaped `-` or `]` in a wrong place,
/// and a trailing `\` as a malformed pattern; `validate` refuses exactly those.
enum ComponentGlob {
    private static let star = UInt8(ascii: "*")
    private static let question = UInt8(ascii: "?")
    private static let open = UInt8(ascii: "[")
    private static let close = UInt8(ascii: "]")
    private static let backslash = UInt8(ascii: "\\")
    private static let caret = UInt8(ascii: "^")
    private static let dash = UInt8(ascii: "-")

    /// Whether `pattern` holds any of the bytes that make it more than a literal name.
    static func isLiteral(_ pattern: [UInt8]) -> Bool {
        !pattern.contains { $0 == star || $0 == question || $0 == open || $0 == close || $0 == backslash }
    }

    /// Why `pattern` is malformed, or `nil` when Go's `filepath.Match` accepts it.
    static func problem(in pattern: [UInt8]) -> FilterPatternError.Problem? {
        var i = 0
        while i < pattern.count {
            switch pattern[i] {
            case backslash:
                guard i + 1 < pattern.count else { return .trailingBackslash }
                i += 2
            case open:
                var j = i + 1
                if j < pattern.count && pattern[j] == caret { j += 1 }
                var members = 0
                while true {
                    if j < pattern.count && pattern[j] == close && members > 0 { break }
                    guard let low = escapedCharacter(pattern, at: j) else { return .badClass }
                    j = low.next
                    if pattern[j] == dash {
                        guard let high = escapedCharacter(pattern, at: j + 1) else { return .badClass }
                        j = high.next
                    }
                    members += 1
                }
                i = j + 1
            default:
                i += 1
            }
        }
        return nil
    }

    /// Whether the whole of `name` matches `pattern`, which `problem(in:)` accepted.
    static func matches(_ pattern: [UInt8], _ name: [UInt8]) -> Bool {
        var p = 0
        var s = 0
        while p < pattern.count {
            var starred = false
            while p < pattern.count && pattern[p] == star { starred = true; p += 1 }
            let chunkEnd = chunkEnd(pattern, from: p)
            let isLast = chunkEnd == pattern.count
            // A trailing '*' takes the rest, unless it holds a '/' (only the root marker does).
            if starred && p == chunkEnd { return !name[s...].contains(PathBytes.slash) }
            if let rest = matchChunk(pattern, p..<chunkEnd, name, from: s), rest == name.count || !isLast {
                s = rest
                p = chunkEnd
                continue
            }
            guard starred else { return false }
            var found = false
            var skip = s
            while skip < name.count && name[skip] != PathBytes.slash {
                skip += 1
                if let rest = matchChunk(pattern, p..<chunkEnd, name, from: skip) {
                    if isLast && rest != name.count { continue }
                    s = rest
                    found = true
                    break
                }
            }
            guard found else { return false }
            p = chunkEnd
        }
        return s == name.count
    }

    /// Where the chunk starting at `start` ends: at the next `*` outside a class.
    private static func chunkEnd(_ pattern: [UInt8], from start: Int) -> Int {
        var inClass = false
        var i = start
        while i < pattern.count {
            switch pattern[i] {
            case backslash: if i + 1 < pattern.count { i += 1 }
            case open: inClass = true
            case close: inClass = false
            case star: if !inClass { return i }
            default: break
            }
            i += 1
        }
        return pattern.count
    }

    /// Matches the chunk (no `*`) at the start of `name[from...]`; the index after what it took.
    private static func matchChunk(_ pattern: [UInt8], _ chunk: Range<Int>, _ name: [UInt8], from start: Int) -> Int? {
        var p = chunk.lowerBound
        var s = start
        while p < chunk.upperBound {
            guard s < name.count else { return nil }
            switch pattern[p] {
            case open:
                let (character, width) = decode(name, at: s)
                s += width
                p += 1
                var negated = false
                if p < chunk.upperBound && pattern[p] == caret { negated = true; p += 1 }
                var matched = false
                var members = 0
                while true {
                    if p < chunk.upperBound && pattern[p] == close && members > 0 { p += 1; break }
                    guard let low = escapedCharacter(pattern, at: p) else { return nil }
                    p = low.next
                    var high = low.character
                    if pattern[p] == dash, let end = escapedCharacter(pattern, at: p + 1) {
                        high = end.character
                        p = end.next
                    }
                    if low.character <= character && character <= high { matched = true }
                    members += 1
                }
                if matched == negated { return nil }
            case question:
                s += decode(name, at: s).width
                p += 1
            case backslash:
                guard pattern[p + 1] == name[s] else { return nil }
                s += 1
                p += 2
            default:
                guard pattern[p] == name[s] else { return nil }
                s += 1
                p += 1
            }
        }
        return s
    }

    /// A class member at `index` (after an optional `\`), as Go's `getEsc` reads it: `nil`
    /// for a missing, unescaped `-` or `]`, or invalid UTF-8 member, or one the pattern ends after.
    private static func escapedCharacter(_ pattern: [UInt8], at index: Int) -> (character: UInt32, next: Int)? {
        var i = index
        guard i < pattern.count, pattern[i] != dash, pattern[i] != close else { return nil }
        if pattern[i] == backslash {
            i += 1
            guard i < pattern.count else { return nil }
        }
        let (character, width) = decode(pattern, at: i)
        guard !(character == replacement && width == 1), i + width < pattern.count else { return nil }
        return (character, i + width)
    }

    private static let replacement: UInt32 = 0xFFFD

    /// The character at `index` as Go's `utf8.DecodeRune` reads it: U+FFFD of width 1 for
    /// a byte that does not start a valid UTF-8 sequence.
    static func decode(_ bytes: [UInt8], at index: Int) -> (character: UInt32, width: Int) {
        let b0 = bytes[index]
        if b0 < 0x80 { return (UInt32(b0), 1) }
        let width = b0 >= 0xF0 && b0 <= 0xF4 ? 4 : b0 >= 0xE0 ? (b0 <= 0xEF ? 3 : 0) : b0 >= 0xC2 ? 2 : 0
        guard width > 0, index + width <= bytes.count else { return (replacement, 1) }
        var value = UInt32(b0) & (width == 2 ? 0x1F : width == 3 ? 0x0F : 0x07)
        for k in 1..<width {
            let b = bytes[index + k]
            guard b & 0xC0 == 0x80 else { return (replacement, 1) }
            value = value << 6 | UInt32(b & 0x3F)
        }
        // Overlong forms, surrogates and values past U+10FFFF are invalid, as in Go.
        let minimum: UInt32 = width == 2 ? 0x80 : width == 3 ? 0x800 : 0x10000
        guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else { return (replacement, 1) }
        return (value, width)
    }
}
