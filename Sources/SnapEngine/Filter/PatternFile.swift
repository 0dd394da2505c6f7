#if canImport(Glibc)
import Glibc
#endif

/// Why a pattern file (`--exclude-file`, `--include-file` and their kin) cannot be used.
public struct PatternFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot read patterns from '\(path)': \(reason)" }
}

/// Pattern files as restic reads them (`readPatternsFromFiles`): one pattern a line,
/// leading and trailing white space removed, empty lines and lines starting with `#`
/// ignored, then `$NAME` and `${NAME}` replaced from the environment (Go's `os.Expand`;
/// `$$` gives a literal `$`, an unset variable nothing). A UTF-8 byte order mark is
/// skipped and UTF-16 with a byte order mark is decoded, as restic's `textfile.Read` does.
public enum PatternFile {
    /// Reads the patterns of the file at `path`.
    /// - Throws: `PatternFileError` when it cannot be read or is not text.
    public static func read(_ path: String, environment: [String: String]) throws(PatternFileError) -> [String] {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readAll(Array(path.utf8)) } catch {
            throw PatternFileError(path: path, reason: error.description)
        }
        guard let text = decode(bytes) else { throw PatternFileError(path: path, reason: "it is not UTF-8 or UTF-16 text") }
        return patterns(in: text, environment: environment)
    }

    /// The patterns in a file's text.
    public static func patterns(in text: String, environment: [String: String]) -> [String] {
        var result: [String] = []
        // Split on bytes: in Swift "\r\n" is one Character, and restic drops a '\r' before '\n'.
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var line = rawLine[...]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            let trimmed = String(decoding: line, as: UTF8.self)[...].trimmingWhiteSpace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            result.append(expand(String(trimmed), environment: environment))
        }
        return result
    }

    /// Go's `os.Expand` with restic's mapping (`$$` is `$`).
    static func expand(_ text: String, environment: [String: String]) -> String {
        let s = Array(text.utf8)
        guard s.contains(UInt8(ascii: "$")) else { return text }
        func value(_ name: [UInt8]) -> [UInt8] {
            let key = String(decoding: name, as: UTF8.self)
            return key == "$" ? [UInt8(ascii: "$")] : Array((environment[key] ?? "").utf8)
        }
        var out: [UInt8] = []
        var i = 0
        while i < s.count {
            guard s[i] == UInt8(ascii: "$"), i + 1 < s.count else {
                out.append(s[i])
                i += 1
                continue
            }
            let (name, width) = shellName(s[(i + 1)...])
            if name.isEmpty && width > 0 {
                // Bad syntax ("${", "${}"): Go drops it.
            } else if name.isEmpty {
                out.append(s[i])
            } else {
                out.append(contentsOf: value(name))
            }
            i += 1 + width
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Go's `getShellName`: the variable name after a `$`, and how many bytes it took.
    private static func shellName(_ s: ArraySlice<UInt8>) -> (name: [UInt8], width: Int) {
        let start = s.startIndex
        func isSpecial(_ c: UInt8) -> Bool { "*#$@!?-".utf8.contains(c) || (c >= 0x30 && c <= 0x39) }
        func isNameByte(_ c: UInt8) -> Bool {
            c == UInt8(ascii: "_") || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
        }
        if s[start] == UInt8(ascii: "{") {
            if s.count > 2 && isSpecial(s[start + 1]) && s[start + 2] == UInt8(ascii: "}") { return ([s[start + 1]], 3) }
            var i = start + 1
            while i < s.endIndex {
                if s[i] == UInt8(ascii: "}") {
                    return i == start + 1 ? ([], 2) : (Array(s[(start + 1)..<i]), i - start + 1)
                }
                i += 1
            }
            return ([], 1)
        }
        if isSpecial(s[start]) { return ([s[start]], 1) }
        var i = start
        while i < s.endIndex && isNameByte(s[i]) { i += 1 }
        return (Array(s[start..<i]), i - start)
    }

    /// UTF-8 (a byte order mark skipped), or UTF-16 with a byte order mark.
    static func decode(_ bytes: [UInt8]) -> String? {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return String(validating: bytes.dropFirst(3), as: UTF8.self) }
        let littleEndian = bytes.starts(with: [0xFF, 0xFE])
        if littleEndian || bytes.starts(with: [0xFE, 0xFF]) {
            let body = Array(bytes.dropFirst(2))
            guard body.count % 2 == 0 else { return nil }
            let units = stride(from: 0, to: body.count, by: 2).map { k in
                littleEndian ? UInt16(body[k]) | UInt16(body[k + 1]) << 8 : UInt16(body[k]) << 8 | UInt16(body[k + 1])
            }
            return String(validating: units, as: UTF16.self)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

extension Substring {
    /// Without the white space Go's `strings.TrimSpace` removes at either end.
    func trimmingWhiteSpace() -> Substring {
        var scalars = unicodeScalars[...]
        while let c = scalars.first, c.properties.isWhitespace { scalars.removeFirst() }
        while let c = scalars.last, c.properties.isWhitespace { scalars.removeLast() }
        return Substring(scalars)
    }
}
