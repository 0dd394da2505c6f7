import Foundation
import CPosix
import SnapRepository
#if canImport(Glibc)
import Glibc
#endif

/// A local location that cannot hold a snap repository, found from the file system alone.
public struct LocalLocationProblem: Error, CustomStringConvertible {
    /// The location as messages show it (`local:PATH`).
    public let location: String
    /// What is there instead, and why it cannot be a repository.
    public let what: String

    public var description: String { "\(location) \(what)" }
}

extension RepositoryLocation {
    /// File systems of the kernel's own objects, which no repository can live on.
    private static let pseudoFileSystems: [Int: String] = [
        0x9fa0: "proc", 0x6265_6572: "sysfs", 0x1cd1: "devpts", 0x6367_7270: "cgroup2", 0x2762_3198: "cgroup",
        0x7363_6673: "securityfs", 0x6462_6720: "debugfs", 0x7472_6163: "tracefs",
    ]

    /// Checks what is at a local location before it is opened as a repository, so that
    /// a file, a device, a folder of `/proc` or another tool's repository is named as what
    /// it is instead of reported as damaged or unreadable. Remote locations and paths that
    /// do not exist pass (opening then says there is no repository there).
    ///
    /// Recognised from files only a local listing sees: kopia (`kopia.repository.f` and the
    /// other `ForeignFormat.kopiaMarkers`) and
    /// borg (`README` saying "This is a Borg Backup repository"). restic is recognised by
    /// `Repository.open` from its key files, on every backend.
    /// - Throws: `LocalLocationProblem`, or `RepositoryError.foreignRepository`.
    public static func checkLocal(_ location: String) throws {
        guard isLocal(location) else { return }
        let path = location.hasPrefix("local:") ? String(location.dropFirst("local:".count)) : location
        let shown = "local:\(path)"
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOTDIR { throw LocalLocationProblem(location: shown, what: "is below a file: a snap repository is a folder") }
            return
        }
        let type = st.st_mode & S_IFMT
        guard type == S_IFDIR else {
            let kinds: [mode_t: String] = [S_IFREG: "a regular file", S_IFCHR: "a character device", S_IFBLK: "a block device",
                                           S_IFIFO: "a fifo", S_IFSOCK: "a socket"]
            throw LocalLocationProblem(location: shown, what: "is \(kinds[type] ?? "a special file"): a snap repository is a folder")
        }
        var fs = statfs()
        if statfs(path, &fs) == 0, let name = pseudoFileSystems[Int(fs.f_type)] {
            throw LocalLocationProblem(location: shown, what: "is on the \(name) file system (the kernel's own objects), which cannot hold a snap repository")
        }
        if ForeignFormat.kopiaMarkers.contains(where: { access(path + "/" + $0, F_OK) == 0 }) {
            throw RepositoryError.foreignRepository(location: shown, format: .kopia)
        }
        if let readme = FileManager.default.contents(atPath: path + "/README"),
           String(decoding: readme.prefix(200), as: UTF8.self).hasPrefix("This is a Borg Backup repository") {
            throw RepositoryError.foreignRepository(location: shown, format: .borg)
        }
    }
}
