#if canImport(Glibc)
import Glibc
#endif

/// Why a file named on the command line (a password file, a file list) cannot be read.
enum Unreadable {
    /// Why `path` cannot be read, in words (`FileManager` does not say).
    static func reason(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR { return "it is a folder" }
        return "it cannot be read"
    }
}
