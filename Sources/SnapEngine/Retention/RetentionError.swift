/// Input to a retention policy that cannot be understood.
public enum RetentionError: Error, Equatable, CustomStringConvertible {
    /// A `--keep-within*` duration that does not parse.
    case invalidDuration(String, reason: String)
    /// A `--group-by` value naming something other than host, paths and tags.
    case invalidGrouping(String)

    public var description: String {
        switch self {
        case let .invalidDuration(text, reason):
            return "invalid duration '\(text)': \(reason) (write years, months, days and hours like 2y5m7d3h)"
        case let .invalidGrouping(text):
            return "unknown grouping '\(text)': use host, paths and tags separated by commas, or '' for no grouping"
        }
    }
}
