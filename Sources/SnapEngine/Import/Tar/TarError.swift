/// Why a tar stream could not be read: where in the stream, which entry, and what was wrong.
public struct TarError: Error, CustomStringConvertible, Equatable {
    /// The stream offset of the header block that was being read.
    public let offset: UInt64
    /// The entry's name when it is known (or, before it is, the previous entry's).
    public let entry: String?
    public let reason: String

    public init(offset: UInt64, entry: String?, reason: String) {
        self.offset = offset; self.entry = entry; self.reason = reason
    }

    public var description: String {
        "tar stream, header at byte \(offset)\(entry.map { " (\($0))" } ?? ""): \(reason)"
    }
}
