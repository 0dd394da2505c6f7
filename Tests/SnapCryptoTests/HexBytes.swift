/// Decodes hexadecimal test vectors, ignoring spaces and line breaks; traps on a typo so a
/// mistyped vector is noticed at once rather than compared as garbage.
func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8.filter { $0 != 0x20 && $0 != 0x0a })
    precondition(digits.count % 2 == 0, "odd number of hex digits in test vector")
    func value(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: preconditionFailure("not a lower-case hex digit in test vector")
        }
    }
    return stride(from: 0, to: digits.count, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
}

/// The UTF-8 bytes of an ASCII test string.
func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }
