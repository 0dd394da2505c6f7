#if canImport(Glibc)
import Glibc
#endif

/// Shell-style patterns (`fnmatch`) for `--exclude` and `--include`.
///
/// A pattern without `/` matches an entry's name anywhere in the tree (`*.o`, `.cache`).
/// A pattern with `/` matches the entry's whole absolute path, and `*` may cross `/`
/// (`/home/*/.cache` also matches `/home/a/b/.cache`). See docs/usage.md.
public struct PathMatcher: Sendable {
    private let patterns: [(bytes: [UInt8], byName: Bool)]

    public init(_ patterns: [String]) {
        self.patterns = patterns.map { p in
            var bytes = Array(p.utf8)
            while bytes.count > 1 && bytes.last == PathBytes.slash { bytes.removeLast() }
            return (bytes, !bytes.contains(PathBytes.slash))
        }
    }

    public var isEmpty: Bool { patterns.isEmpty }

    /// Whether any pattern matches the entry at absolute `path` with base name `name`.
    public func matches(path: [UInt8], name: [UInt8]) -> Bool {
        patterns.contains { p in
            PathBytes.withCString(p.bytes) { pattern in
                PathBytes.withCString(p.byName ? name : path) { fnmatch(pattern, $0, 0) == 0 }
            }
        }
    }
}
