/// Lower-casing for `--iexclude` and `--iinclude`, as restic does it (Go's
/// `strings.ToLower`): each character mapped to its lower-case form, one for one.
///
/// Bytes that are not valid UTF-8 are kept as they are (Go would replace them with
/// U+FFFD, which would make distinct names equal); everything else is as Go.
enum CaseFolding {
    static func lowercased(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            return bytes.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let (value, width) = ComponentGlob.decode(bytes, at: i)
            let valid = !(value == 0xFFFD && width == 1)
            if valid, let scalar = Unicode.Scalar(value), let lower = scalar.properties.lowercaseMapping.unicodeScalars.first {
                out.append(contentsOf: String(lower).utf8)
            } else {
                out.append(contentsOf: bytes[i..<i + width])
            }
            i += width
        }
        return out
    }
}
