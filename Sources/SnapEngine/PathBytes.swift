/// Helpers for paths and names held as raw bytes (Linux file names need not be UTF-8).
public enum PathBytes {
    public static let slash = UInt8(ascii: "/")

    /// `path` below the folder `root` (no trailing slash), as a path from that folder:
    /// `/a/b/c` below `/a` is `/b/c`. `nil` when it is not strictly below (`/ab`, `/a`).
    public static func below(_ root: [UInt8], _ path: [UInt8]) -> [UInt8]? {
        guard path.count > root.count, path.starts(with: root), path[root.count] == slash else { return nil }
        return Array(path[root.count...])
    }

    /// Joins a directory path and a name with one slash.
    public static func join(_ dir: [UInt8], _ name: [UInt8]) -> [UInt8] {
        if dir.last == slash { return dir + name }
        return dir + [slash] + name
    }

    /// A name or path for JSON: the text itself when it is UTF-8 (control characters too,
    /// which JSON escapes exactly, so `a<LF>b` and a name spelled `a\x0ab` stay apart);
    /// `display` otherwise, with the bytes given beside it where they matter (`name_bytes`).
    public static func jsonText(_ bytes: [UInt8]) -> String {
        String(validating: bytes, as: UTF8.self) ?? display(bytes)
    }

    /// UTF-8 text when valid; otherwise each invalid byte as `\xNN`. Control characters
    /// (a newline in a name) are escaped too, so one path stays on one line.
    public static func display(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self), !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return text
        }
        var out = ""
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b >= 0x20 && b < 0x7f {
                if b == UInt8(ascii: "\\") { out += "\\\\" } else { out.unicodeScalars.append(Unicode.Scalar(b)) }
                i += 1
                continue
            }
            // Try a valid multi-byte UTF-8 sequence starting here.
            let length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0
            if length > 0, i + length <= bytes.count, let s = String(validating: bytes[i..<i + length], as: UTF8.self) {
                out += s
                i += length
                continue
            }
            out += "\\x" + String(b, radix: 16).leftPadded(to: 2)
            i += 1
        }
        return out
    }

    /// Splits an absolute or relative path into its non-empty components.
    public static func components(_ path: [UInt8]) -> [[UInt8]] {
        path.split(separator: slash, omittingEmptySubsequences: true).map(Array.init)
    }

    /// Calls `body` with a NUL-terminated copy of `path` for C calls.
    public static func withCString<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (path + [0]).withUnsafeBufferPointer { buf in
            try buf.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }  // never empty: holds the NUL
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
