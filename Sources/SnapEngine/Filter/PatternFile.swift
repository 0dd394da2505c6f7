import SnapCore
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
/// skipped and UTF-16 with a byte order mark is decoded, as restic's `textfile.Read` does;
/// any other bytes are taken as they are, so a line may name a file whose name is not
/// UTF-8 (Latin-1, say), as in restic.
public enum PatternFile {
    /// The largest pattern file read: far more than any list of patterns a person keeps.
    public static let largestFile = 64 << 20

    /// Reads the patterns of the file at `path`: a file, or a pipe such as `<(command)`
    /// gives. What was read is kept for the process, since a pipe can be read only once and
    /// a command gathers its patterns both to check them and to use them.
    /// - Throws: `PatternFileError` when it cannot be read, or claims UTF-16 and is not.
    public static func read(_ path: String, environment: [String: String]) throws(PatternFileError) -> [PatternText] {
        let bytes: [UInt8]
        do { bytes = try SmallFile.read(path, limit: largestFile, waitSeconds: .infinity, keep: true) } catch {
            throw PatternFileError(path: path, reason: error.cause)
        }
        guard let text = decode(bytes) else { throw PatternFileError(path: path, reason: "it starts with a UTF-16 byte order mark but is not UTF-16 text") }
        return patterns(in: text, environment: environment)
    }

    /// The patterns in a file's text.
    public static func patterns(in text: String, environment: [String: String]) -> [PatternText] {
        patterns(in: Array(text.utf8), environment: environment)
    }

    /// The patterns in a file's bytes (after `decode`).
    static func patterns(in text: [UInt8], environment: [String: String]) -> [PatternText] {
        var result: [PatternText] = []
        // Split on bytes: in Swift "\r\n" is one Character, and restic drops a '\r' before '\n'.
        for rawLine in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var line = rawLine[...]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            let trimmed = trimmingWhiteSpace(line)
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
            result.append(PatternText(bytes: expand(Array(trimmed), environment: environment)))
        }
        return result
    }

    /// Go's `strings.TrimSpace`: Unicode white space off both ends; a byte that is not
    /// UTF-8 is not white space.
    static func trimmingWhiteSpace(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        func isSpace(_ scalar: [UInt8]) -> Bool {
            guard let text = String(validating: scalar, as: UTF8.self), let c = text.unicodeScalars.first else { return false }
            return text.unicodeScalars.count == 1 && c.properties.isWhitespace
        }
        var line = line
        while !line.isEmpty {
            let (_, width) = ComponentGlob.decode(Array(line), at: 0)
            guard isSpace(Array(line.prefix(width))) else { break }
            line = line.dropFirst(width)
        }
        // The last character starts within the last four bytes, at a byte that is not 10xxxxxx.
        while !line.isEmpty {
            var start = line.endIndex - 1
            while start > line.startIndex && start > line.endIndex - 4 && line[start] & 0xC0 == 0x80 { start -= 1 }
            guard isSpace(Array(line[start...])) else { break }
            line = line[..<start]
        }
        return line
    }

    /// Go's `os.Expand` with restic's mapping (`$$` is `$`).
    static func expand(_ text: String, environment: [String: String]) -> String {
        String(decoding: expand(Array(text.utf8), environment: environment), as: UTF8.self)
    }

    static func expand(_ s: [UInt8], environment: [String: String]) -> [UInt8] {
        guard s.contains(UInt8(ascii: "$")) else { return s }
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
        return out
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

    /// The file's bytes as restic's `textfile.Read` gives them: without a UTF-8 byte order
    /// mark, UTF-16 with a byte order mark decoded to UTF-8, anything else as it is. `nil`
    /// when a UTF-16 byte order mark is followed by what is not UTF-16.
    public static func decode(_ bytes: [UInt8]) -> [UInt8]? {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return Array(bytes.dropFirst(3)) }
        let littleEndian = bytes.starts(with: [0xFF, 0xFE])
        if littleEndian || bytes.starts(with: [0xFE, 0xFF]) {
            let body = Array(bytes.dropFirst(2))
            guard body.count % 2 == 0 else { return nil }
            let units = stride(from: 0, to: body.count, by: 2).map { k in
                littleEndian ? UInt16(body[k]) | UInt16(body[k + 1]) << 8 : UInt16(body[k]) << 8 | UInt16(body[k + 1])
            }
            return String(validating: units, as: UTF16.self).map { Array($0.utf8) }
        }
        return bytes
    }
}
