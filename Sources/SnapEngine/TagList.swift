/// A comma-separated list of tags as restic reads one (`--tag 'daily, weekly'`): split at
/// commas, white space around each tag trimmed, empty ones dropped. Every option that takes
/// tags reads them so, or `--keep-tag 'a, b'` would look for a tag " b" and keep nothing.
public enum TagList {
    public static func parse(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: true)
            .map { tag in String(tag.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()) }
            .filter { !$0.isEmpty }
    }

    /// The tags of several values, in order.
    public static func parse(_ values: [String]) -> [String] { values.flatMap(parse) }
}
