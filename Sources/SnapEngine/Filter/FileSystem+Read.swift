#if canImport(Glibc)
import Glibc
#endif

extension FileSystem {
    /// Up to `limit` bytes from the start of the file at `path` (following symlinks);
    /// fewer only when the file is shorter.
    static func readPrefix(_ path: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        let fd = PathBytes.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw Failure(code: errno) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while out.count < limit {
            let wanted = min(chunk.count, limit - out.count)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, wanted) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(code: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[..<n])
        }
        return out
    }

}
