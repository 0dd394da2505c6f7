/// A comma-separated list of tags as restic reads one (`--tag 'daily, weekly'`): split at
/// commas, white space around each tag trimmed, empty ones dropped. Every option that takes
/// tags reads them so, or `--keep-tag 'a, b'` would look for a tag " b" and keep nothing.
public enum TagList {
    public static func parse(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: true)
            .map(trimmed)
            .filter { !$0.isEmpty }
    }

    /// The tags of several values, in order.
    public static func parse(_ values: [String]) -> [String] { values.flatMap(parse) }

    /// A snapshot's tags as they are compared with wanted ones: trimmed too, since snap
    /// before 2026-12-07 stored `--tag 'a, b'` as "a" and " b", and a `--keep-tag 'a, b'`
    /// that those snapshots met then must still keep them.
    public static func stored(_ tags: [String]) -> Set<String> {
        Set(tags.map(trimmed))
    }

    /// `tag` without white space around it.
    public static func trimmed<S: StringProtocol>(_ tag: S) -> String {
        String(tag.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
