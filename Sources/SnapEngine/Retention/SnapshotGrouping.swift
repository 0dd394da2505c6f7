/// How `forget` divides snapshots into groups before applying a policy to each group
/// (restic's `--group-by`).
public struct SnapshotGrouping: Sendable, Hashable, CustomStringConvertible {
    public var byHost: Bool
    public var byPaths: Bool
    public var byTags: Bool

    public init(byHost: Bool = false, byPaths: Bool = false, byTags: Bool = false) {
        self.byHost = byHost; self.byPaths = byPaths; self.byTags = byTags
    }

    /// The default: one group per host name and set of paths.
    public static let hostAndPaths = SnapshotGrouping(byHost: true, byPaths: true)

    /// Parses `host,paths,tags` (any subset, any order; `hosts`, `path` and `tag` are
    /// accepted too, as restic accepts them). Empty text, or only commas, means one group
    /// for everything.
    ///
    /// - Throws: `RetentionError.invalidGrouping` for any other word.
    public init(parsing text: String) throws {
        self.init()
        for word in text.split(separator: ",", omittingEmptySubsequences: true) {
            switch word {
            case "host", "hosts": byHost = true
            case "path", "paths": byPaths = true
            case "tag", "tags": byTags = true
            default: throw RetentionError.invalidGrouping(String(word))
            }
        }
    }

    /// `host,paths,tags` with the parts in use; empty for no grouping.
    public var description: String {
        [(byHost, "host"), (byPaths, "paths"), (byTags, "tags")].filter(\.0).map(\.1).joined(separator: ",")
    }

    /// The group `snapshot` belongs to.
    public func key(for snapshot: RetentionSnapshot) -> SnapshotGroupKey {
        key(hostname: snapshot.hostname, paths: snapshot.paths, tags: snapshot.tags)
    }

    /// The group of a snapshot of this host, paths and tags.
    public func key(hostname: String, paths: [String], tags: [String]) -> SnapshotGroupKey {
        SnapshotGroupKey(hostname: byHost ? hostname : nil,
                         paths: byPaths ? Array(Set(paths)).sorted() : nil,
                         tags: byTags ? Array(Set(tags)).sorted() : nil)
    }
}

/// What the snapshots of one group share: each part is `nil` when the grouping does not
/// use it. Paths and tags are compared as sets and kept sorted.
public struct SnapshotGroupKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var hostname: String?
    public var paths: [String]?
    public var tags: [String]?

    public init(hostname: String? = nil, paths: [String]? = nil, tags: [String]? = nil) {
        self.hostname = hostname; self.paths = paths; self.tags = tags
    }

    /// `host alpha, paths [/a, /b], tags [x]`, or `all snapshots` without grouping.
    public var description: String {
        var parts: [String] = []
        if let hostname { parts.append("host \(hostname)") }
        if let paths { parts.append("paths [\(paths.joined(separator: ", "))]") }
        if let tags { parts.append("tags [\(tags.joined(separator: ", "))]") }
        return parts.isEmpty ? "all snapshots" : parts.joined(separator: ", ")
    }

    /// Host name, then paths, then tags, each compared element by element.
    public static func < (a: SnapshotGroupKey, b: SnapshotGroupKey) -> Bool {
        if a.hostname ?? "" != b.hostname ?? "" { return a.hostname ?? "" < b.hostname ?? "" }
        if a.paths ?? [] != b.paths ?? [] { return (a.paths ?? []).lexicographicallyPrecedes(b.paths ?? []) }
        return (a.tags ?? []).lexicographicallyPrecedes(b.tags ?? [])
    }
}
