/// A pattern as the user gave it, as bytes: a command-line word or a pattern file's line,
/// which need not be UTF-8. restic matches a pattern's bytes against a name's bytes, so an
/// exclude written for a Latin-1 name (`caf\xe9.txt`) must reach the matcher unchanged,
/// not as the U+FFFD a `String` would make of it.
public struct PatternText: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { bytes = Array(text.utf8) }
    public init(stringLiteral text: String) { self.init(text) }

    public var isEmpty: Bool { bytes.isEmpty }

    /// For messages and a snapshot's list of excludes: bytes that are not UTF-8 as `\xNN`.
    public var description: String { PathBytes.display(bytes) }

    /// Both sides lower-cased, for `--iexclude` and its kin.
    var lowercased: PatternText { PatternText(bytes: CaseFolding.lowercased(bytes)) }
}
