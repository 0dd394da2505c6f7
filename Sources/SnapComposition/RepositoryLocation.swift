import SnapStorage

/// Turns a repository location string into the backend stack every command uses.
///
/// This is the only place that knows which providers and decorators exist.
public enum RepositoryLocation {
    /// Errors in a location string.
    public struct Invalid: Error, CustomStringConvertible {
        public let location: String
        public let reason: String
        public var description: String { "invalid repository location '\(location)': \(reason)" }
    }

    /// Builds the backend for `location`: `local:/path` or a plain path.
    public static func backend(for location: String) throws -> Backend {
        if location.isEmpty {
            throw Invalid(location: location, reason: "empty; give -r/--repo or set SNAP_REPOSITORY")
        }
        if location.hasPrefix("local:") {
            let path = String(location.dropFirst("local:".count))
            guard !path.isEmpty else { throw Invalid(location: location, reason: "no path after 'local:'") }
            return LocalBackend(root: path)
        }
        if let colon = location.firstIndex(of: ":"), !location[..<colon].contains("/"),
           ["s3", "sftp", "rest", "rclone"].contains(String(location[..<colon])) {
            throw Invalid(location: location, reason: "the \(location[..<colon]) backend is not available in this version")
        }
        return LocalBackend(root: location)
    }
}
