import Foundation

/// Sizes given on the command line or in the environment: `1G`, `1GiB`, `512M`, `1.5G`,
/// `1048576`. Units are binary (K = 1024) and case-insensitive; `B`, `KB` and `KiB` all work.
enum ByteSize {
    /// The size `text` names, or `nil` when it is not a size or does not fit in 64 bits.
    static func parse(_ text: String) -> UInt64? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces).uppercased())
        if rest.hasSuffix("IB") { rest = rest.dropLast(2) } else if rest.hasSuffix("B") { rest = rest.dropLast() }
        let units: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        var scale = 1.0
        if let last = rest.last, let unit = units[last] {
            scale = unit
            rest = rest.dropLast()
        } else if text.uppercased().hasSuffix("IB") {
            return nil  // "iB" needs a unit before it
        }
        guard let number = Double(rest.trimmingCharacters(in: .whitespaces)), number.isFinite, number >= 0 else { return nil }
        let bytes = (number * scale).rounded(.down)
        guard bytes < 0x1p64 else { return nil }
        return UInt64(bytes)
    }
}
