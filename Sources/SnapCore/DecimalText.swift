/// Decimal digits appended straight to bytes, for text built once per entry of a large
/// snapshot (`ls --json`: two times and five numbers an entry, a million entries a run),
/// where `String(value)` and padding cost an allocation each.
public enum DecimalText {
    /// Appends `value` in decimal, with leading zeros up to `width` digits.
    public static func append(_ value: UInt64, width: Int = 1, to out: inout [UInt8]) {
        var count = 1
        var rest = value
        while rest >= 10 { rest /= 10; count += 1 }
        for _ in 0..<max(count, width) { out.append(UInt8(ascii: "0")) }
        var i = out.count - 1
        rest = value
        repeat {
            out[i] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            i -= 1
        } while rest > 0
    }
}
