/// A small JSON parser for restic's tree blobs (RFC 8259), faster than Foundation's on the
/// many small objects of a large tree. It builds plain values; `ResticTreeJSON.parse`
/// picks the fields. Bounded: nesting deeper than `maxDepth` is refused.
enum TreeJSONParser {
    indirect enum Value {
        case object([String: Value])
        case array([Value])
        case string(String)
        /// The number's text, converted by whoever reads it.
        case number(Substring)
        case bool(Bool)
        case null
    }

    struct Invalid: Error { let offset: Int }

    static let maxDepth = 64

    static func parse(_ bytes: [UInt8]) throws(Invalid) -> Value {
        var i = 0
        let value = try parseValue(bytes, &i, depth: 0)
        skipSpace(bytes, &i)
        guard i == bytes.count else { throw Invalid(offset: i) }
        return value
    }

    private static func skipSpace(_ b: [UInt8], _ i: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0a || b[i] == 0x0d || b[i] == 0x09 { i += 1 }
    }

    private static func parseValue(_ b: [UInt8], _ i: inout Int, depth: Int) throws(Invalid) -> Value {
        skipSpace(b, &i)
        guard i < b.count, depth < maxDepth else { throw Invalid(offset: i) }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [String: Value] = [:]
            skipSpace(b, &i)
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skipSpace(b, &i)
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw Invalid(offset: i) }
                let key = try parseString(b, &i)
                skipSpace(b, &i)
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw Invalid(offset: i) }
                i += 1
                members[key] = try parseValue(b, &i, depth: depth + 1)
                skipSpace(b, &i)
                guard i < b.count else { throw Invalid(offset: i) }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                guard b[i] == UInt8(ascii: "}") else { throw Invalid(offset: i) }
                i += 1
                return .object(members)
            }
        case UInt8(ascii: "["):
            i += 1
            var elements: [Value] = []
            skipSpace(b, &i)
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
            while true {
                elements.append(try parseValue(b, &i, depth: depth + 1))
                skipSpace(b, &i)
                guard i < b.count else { throw Invalid(offset: i) }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                guard b[i] == UInt8(ascii: "]") else { throw Invalid(offset: i) }
                i += 1
                return .array(elements)
            }
        case UInt8(ascii: "\""):
            return .string(try parseString(b, &i))
        case UInt8(ascii: "t"):
            try literal(b, &i, "true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal(b, &i, "false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal(b, &i, "null")
            return .null
        default:
            let start = i
            while i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: ".")
                    || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") || (0x30...0x39).contains(b[i]) { i += 1 }
            guard i > start else { throw Invalid(offset: i) }
            return .number(Substring(String(decoding: b[start..<i], as: UTF8.self)))
        }
    }

    private static func literal(_ b: [UInt8], _ i: inout Int, _ word: StaticString) throws(Invalid) {
        let count = word.utf8CodeUnitCount
        guard i + count <= b.count else { throw Invalid(offset: i) }
        for k in 0..<count where b[i + k] != word.utf8Start[k] { throw Invalid(offset: i + k) }
        i += count
    }

    /// A string starting at the quote at `i`; leaves `i` after the closing quote.
    private static func parseString(_ b: [UInt8], _ i: inout Int) throws(Invalid) -> String {
        i += 1
        let start = i
        // The common case: no escapes.
        while i < b.count, b[i] != UInt8(ascii: "\"") && b[i] != UInt8(ascii: "\\") && b[i] >= 0x20 { i += 1 }
        guard i < b.count else { throw Invalid(offset: i) }
        if b[i] == UInt8(ascii: "\"") {
            defer { i += 1 }
            return String(decoding: b[start..<i], as: UTF8.self)
        }
        var out = Array(b[start..<i])
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            guard c >= 0x20 else { throw Invalid(offset: i) }
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            guard i + 1 < b.count else { throw Invalid(offset: i) }
            let e = b[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4(b, &i)
                if (0xd800..<0xdc00).contains(scalar), i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                    var j = i + 2
                    let low = try hex4(b, &j)
                    if (0xdc00..<0xe000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                        i = j
                    }
                }
                // A lone surrogate becomes U+FFFD, as Go's decoder makes it.
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar) ?? "\u{fffd}")).utf8))
            default:
                throw Invalid(offset: i - 1)
            }
        }
        throw Invalid(offset: i)
    }

    private static func hex4(_ b: [UInt8], _ i: inout Int) throws(Invalid) -> UInt32 {
        guard i + 4 <= b.count else { throw Invalid(offset: i) }
        var value: UInt32 = 0
        for k in 0..<4 {
            let c = b[i + k]
            let digit: UInt8
            switch c {
            case 0x30...0x39: digit = c - 0x30
            case 0x61...0x66: digit = c - 0x61 + 10
            case 0x41...0x46: digit = c - 0x41 + 10
            default: throw Invalid(offset: i + k)
            }
            value = value << 4 | UInt32(digit)
        }
        i += 4
        return value
    }
}
