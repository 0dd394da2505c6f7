/// The errors every backend throws, classified where they happen so that decorators
/// (retry, mirroring) can act on the class and never on message text.
public enum StorageError: Error, CustomStringConvertible {
    /// The file does not exist. Never retried.
    case notFound(FileName, location: String)
    /// The requested range lies outside the file.
    case invalidRange(FileName, range: Range<Int>, size: Int, location: String)
    /// A failure that may pass: a reset connection, a 5xx. Worth retrying.
    case transient(operation: String, file: FileName?, location: String, detail: String)
    /// No answer in time: the connection was not taken, or the request stalled. Worth
    /// retrying, except where another copy can be read instead (a mirror's replica), since
    /// a hung server costs the whole timeout again.
    case timedOut(operation: String, file: FileName?, location: String, detail: String)
    /// A failure that will not pass by retrying: permission denied, full disk, bad credentials.
    case permanent(operation: String, file: FileName?, location: String, detail: String)

    /// Whether retrying the same call may succeed.
    public var isTransient: Bool {
        switch self {
        case .transient, .timedOut: return true
        case .notFound, .invalidRange, .permanent: return false
        }
    }

    /// Whether the file does not exist (`notFound`).
    public var isNotFound: Bool {
        if case .notFound = self { return true }
        return false
    }

    /// Whether the call got no answer in time (`timedOut`).
    public var isTimeout: Bool {
        if case .timedOut = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case let .notFound(file, location):
            return "\(file) not found in \(location)"
        case let .invalidRange(file, range, size, location):
            return "\(file) in \(location) is \(size) bytes, cannot read bytes \(range.lowerBound)..<\(range.upperBound)"
        case let .transient(operation, file, location, detail), let .timedOut(operation, file, location, detail),
             let .permanent(operation, file, location, detail):
            let what = file.map { " \($0)" } ?? ""
            return "cannot \(operation)\(what) in \(location): \(detail)"
        }
    }
}
