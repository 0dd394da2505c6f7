#if canImport(Glibc)
import Glibc
#endif

/// The paths given to `backup`, made absolute and normalised, and arranged as a tree of
/// components so that several paths share their common parent directories.
final class SourceTrie {
    var children: [[UInt8]: SourceTrie] = [:]
    /// Back up everything below this component.
    var isTarget = false

    /// Makes `path` absolute against the working directory and removes `.`, `..` and
    /// repeated slashes, without resolving symlinks.
    static func normalise(_ path: [UInt8]) -> [UInt8] {
        var bytes = path
        if bytes.first != PathBytes.slash {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            if getcwd(&buffer, buffer.count) != nil {
                bytes = PathBytes.join(buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, bytes)
            }
        }
        var parts: [[UInt8]] = []
        for c in PathBytes.components(bytes) {
            if c == [46] { continue }
            if c == [46, 46] { _ = parts.popLast(); continue }
            parts.append(c)
        }
        return [PathBytes.slash] + parts.map { $0 }.joined(separator: [PathBytes.slash])
    }

    /// Adds a normalised absolute path. A path below another target adds nothing.
    func insert(_ path: [UInt8]) {
        var node = self
        for component in PathBytes.components(path) {
            if node.isTarget { return }
            if let next = node.children[component] {
                node = next
            } else {
                let next = SourceTrie()
                node.children[component] = next
                node = next
            }
        }
        node.isTarget = true
        node.children = [:]
    }
}
