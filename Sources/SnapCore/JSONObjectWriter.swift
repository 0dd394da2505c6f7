/// One compact JSON object, written field by field straight into bytes.
///
/// For output that runs to a line per entry of a snapshot (`ls --json`, `find --json`):
/// Foundation's `JSONEncoder` builds a tree of boxed values and a dictionary per object,
/// then sorts the keys, about 10 µs an entry here, so a million-entry `ls --json` spent
/// 10 of its 13 s encoding. This writes each field as it is given, in the order given:
/// callers give keys in byte order, so the text is what `JSONEncoder` writes with
/// `.sortedKeys` and `.withoutEscapingSlashes` (the tests compare the two), and readers
/// that compare output across versions see no change.
///
/// Strings are escaped as RFC 8259 requires, as `JSONEncoder` does it: `"` and `\`, the
/// control characters U+0000–U+001F (`\b \t \n \f \r` in short, the others as `\u00xx`);
/// everything else, `/` included, is written as UTF-8.
public struct JSONObjectWriter {
    private var bytes: [UInt8]
    private var empty = true

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// The object's text, closed.
    public func finished() -> [UInt8] { bytes + [UInt8(ascii: "}")] }

    /// A string field; none when `value` is `nil` (as `JSONEncoder` leaves out a nil optional).
    public mutating func field(_ key: String, _ value: String?) {
        guard let value else { return }
        self.key(key)
        Self.appendString(value, to: &bytes)
    }

    /// A string field from raw bytes: escaped as above, every other byte written as it is,
    /// so bytes that are not UTF-8 pass through (ncdu's export, which reads names as bytes).
    public mutating func field(_ key: String, rawBytes value: [UInt8]) {
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        for byte in value { Self.appendEscaped(byte, to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A boolean field; none when `value` is `nil`.
    public mutating func field(_ key: String, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// An integer field; none when `value` is `nil`.
    public mutating func field(_ key: String, _ value: UInt64?) {
        guard let value else { return }
        self.key(key)
        DecimalText.append(value, to: &bytes)
    }

    /// A signed integer field; none when `value` is `nil`.
    public mutating func field(_ key: String, _ value: Int64?) {
        guard let value else { return }
        self.key(key)
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        DecimalText.append(value.magnitude, to: &bytes)
    }

    /// An array of strings; none when `values` is `nil`.
    public mutating func field(_ key: String, strings values: [String]?) {
        guard let values else { return }
        self.key(key)
        bytes.append(UInt8(ascii: "["))
        for (i, value) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendString(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// An object of string values, its keys sorted by their bytes; none when `values` is `nil`.
    public mutating func field(_ key: String, object values: [String: String]?) {
        guard let values else { return }
        self.key(key)
        var inner = JSONObjectWriter(capacity: 64)
        for name in values.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) { inner.field(name, values[name]) }
        bytes.append(contentsOf: inner.finished())
    }

    private mutating func key(_ key: String) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        Self.appendString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends `text` as a quoted, escaped JSON string.
    private static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                out.append(contentsOf: utf8)  // nothing to escape: most names and every ID
            } else {
                for byte in utf8 { appendEscaped(byte, to: &out) }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
        case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
        case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
        case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
        case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
        case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
        case 0..<0x20:
            out.append(contentsOf: "\\u00".utf8)
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        default: out.append(byte)
        }
    }
}
