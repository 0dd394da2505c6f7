/// restic stores a node's name as Go's `strconv.Quote` writes it, without the surrounding
/// quotes, and then JSON-encodes that text (restic `internal/restic/node.go`,
/// `MarshalJSON`). So a name that is not valid UTF-8 survives: each bad byte is written as
/// `\xNN`. This undoes the quoting and returns the name's raw bytes.
enum GoQuotedName {
    struct Invalid: Error { let reason: String }

    /// The bytes that `quoted` (the JSON string's value) stands for.
    static func unquote(_ quoted: String) throws(Invalid) -> [UInt8] {
        let text = Array(quoted.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        func hexDigits(_ count: Int) throws(Invalid) -> UInt32 {
            guard i + count <= text.count else { throw Invalid(reason: "escape cut short") }
            var value: UInt32 = 0
            for c in text[i..<(i + count)] {
                let digit: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw Invalid(reason: "bad hex digit in escape")
                }
                value = value << 4 | digit
            }
            i += count
            return value
        }
        func appendScalar(_ value: UInt32) throws(Invalid) {
            guard let scalar = Unicode.Scalar(value) else { throw Invalid(reason: "escape names no Unicode character") }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        while i < text.count {
            let c = text[i]
            i += 1
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                continue
            }
            guard i < text.count else { throw Invalid(reason: "ends with a backslash") }
            let e = text[i]
            i += 1
            switch e {
            case UInt8(ascii: "a"): out.append(7)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "v"): out.append(11)
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(e)
            case UInt8(ascii: "x"): out.append(UInt8(try hexDigits(2)))
            case UInt8(ascii: "u"): try appendScalar(try hexDigits(4))
            case UInt8(ascii: "U"): try appendScalar(try hexDigits(8))
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                // Three octal digits, the first already read.
                guard i + 2 <= text.count else { throw Invalid(reason: "octal escape cut short") }
                var value = UInt32(e - UInt8(ascii: "0"))
                for d in text[i..<(i + 2)] {
                    guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(d) else { throw Invalid(reason: "bad octal escape") }
                    value = value << 3 | UInt32(d - UInt8(ascii: "0"))
                }
                guard value <= 255 else { throw Invalid(reason: "octal escape above 255") }
                i += 2
                out.append(UInt8(value))
            default:
                throw Invalid(reason: "unknown escape \\\(Character(Unicode.Scalar(e)))")
            }
        }
        return out
    }
}
