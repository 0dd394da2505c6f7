import SnapCore

/// Why an import stopped; no snapshot was saved.
public enum ImportError: Error, CustomStringConvertible, Equatable {
    /// An entry's path cannot be a snapshot path: empty, too deep, or with a component that
    /// is empty, `.`, `..`, or holds `/` or NUL.
    case unusablePath(path: String, reason: String)
    /// A `.known` content names a blob this repository does not have.
    case unknownContent(path: String, blob: String)
    /// A content stream gave more bytes than the space it was handed.
    case streamOverrun(path: String)
    /// The temporary file holding entries of folders already passed did not read back.
    case spillUnreadable(String)

    public var description: String {
        switch self {
        case let .unusablePath(path, reason): return "\(path): cannot be imported: \(reason)"
        case let .unknownContent(path, blob): return "\(path): its content names blob \(blob), which this repository does not have"
        case let .streamOverrun(path): return "\(path): the content source gave more bytes than asked for"
        case let .spillUnreadable(reason):
            return "the temporary file holding the entries read so far (in $TMPDIR) did not read back: \(reason)"
        }
    }
}
