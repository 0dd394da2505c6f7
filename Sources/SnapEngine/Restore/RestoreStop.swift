#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Why a restore stopped before the end: the target refused a write or a create with an
/// error that would repeat for every further file (no space, quota exceeded, read-only,
/// I/O error). Nothing in the repository is at fault.
public struct RestoreStop: Sendable, CustomStringConvertible {
    /// The target path being written or created when the error came.
    public let path: String
    /// The `errno` value.
    public let code: Int32
    /// The mount point of the file system holding `path`.
    public let fileSystem: String

    /// `no space left on device writing /tmp/t/home/x (target file system /tmp/t)`.
    public var description: String {
        let reason = String(cString: strerror(code))
        let lowered = reason.prefix(1).lowercased() + reason.dropFirst()
        return "\(lowered) writing \(path) (target file system \(fileSystem))"
    }

    /// Whether a failure with this `errno` stops the restore: it would repeat for every file.
    static func stops(_ code: Int32) -> Bool {
        code == ENOSPC || code == EDQUOT || code == EROFS || code == EIO
    }
}

/// The first `RestoreStop` of a restore, shared by its workers, which look at it before
/// each pack and each blob.
final class RestoreStopSignal: Sendable {
    private let raised = Atomic<Bool>(false)
    private let first = Mutex<RestoreStop?>(nil)

    /// Whether the restore has stopped.
    var isRaised: Bool { raised.load(ordering: .acquiring) }

    /// The first stop, if any.
    var stop: RestoreStop? { first.withLock { $0 } }

    /// Stops the restore with `code` at `path` unless it has stopped already.
    func raise(code: Int32, path: [UInt8]) {
        first.withLock { current in
            guard current == nil else { return }
            current = RestoreStop(path: PathBytes.display(path), code: code,
                                  fileSystem: PathBytes.display(FileSystem.mountPoint(of: path)))
        }
        raised.store(true, ordering: .releasing)
    }
}

extension FileSystem {
    /// The mount point of the file system that holds `path`, or would hold it: the
    /// highest folder above the nearest existing ancestor that is on the same device.
    static func mountPoint(of path: [UInt8]) -> [UInt8] {
        var components = PathBytes.components(path)
        func joined(_ parts: [[UInt8]]) -> [UInt8] {
            parts.reduce([PathBytes.slash]) { PathBytes.join($0, $1) }
        }
        // The nearest ancestor (or the path itself) that exists.
        var device: dev_t
        while true {
            if let st = try? lstat(joined(components)) { device = st.st_dev; break }
            if components.isEmpty { return [PathBytes.slash] }
            components.removeLast()
        }
        while !components.isEmpty {
            let parent = Array(components.dropLast())
            guard let st = try? lstat(joined(parent)), st.st_dev == device else { break }
            components = parent
        }
        return joined(components)
    }
}
