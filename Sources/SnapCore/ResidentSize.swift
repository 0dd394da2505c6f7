#if canImport(Glibc)
import Glibc
#endif

/// This process's resident memory that is backed by files (mapped files, the binary's own
/// pages), from `/proc/self/statm`'s third field, in bytes.
///
/// A memory-mapped cache cannot know how much of itself a page fault maps: Linux maps the
/// cached pages around a fault ("fault-around") and whole large folios, and both vary with
/// the kernel and the file system. Reading the kernel's count is the one sure measure.
public enum ResidentSize {
    /// The file-backed resident bytes, or `nil` where `/proc` cannot be read.
    public static func fileBacked() -> Int? {
        let fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        // "size resident shared text lib data dt", in pages.
        let fields = buffer[..<n].split(separator: UInt8(ascii: " "))
        guard fields.count >= 3, let pages = Int(String(decoding: fields[2], as: UTF8.self)) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
