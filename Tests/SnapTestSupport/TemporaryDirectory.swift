import Foundation

/// A fresh, empty folder under the system's temporary directory, for tests that touch the disk.
public final class TemporaryDirectory: @unchecked Sendable {
    /// The absolute path of the folder (no trailing slash).
    public let path: String

    /// Creates a new folder whose name starts with `prefix`, in `parent` (default: the
    /// system's temporary directory).
    public init(prefix: String = "snap-test", in parent: String? = nil) throws {
        let base = parent ?? FileManager.default.temporaryDirectory.path
        path = "\(base)/\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the folder, for a sub-folder or file.
    public func appending(_ component: String) -> String { "\(path)/\(component)" }

    /// Deletes the folder and everything in it, restoring write permission on the way if a test removed it.
    public func remove() {
        if let walker = FileManager.default.enumerator(atPath: path) {
            chmod(path, 0o700)
            for case let relative as String in walker { chmod("\(path)/\(relative)", 0o700) }
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}
