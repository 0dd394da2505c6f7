import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Writes to standard output and standard error with `write(2)`.
///
/// Not `FileHandle`: its `write` stops the process (a `try!` inside Foundation) when a write
/// fails, so `snap backup -v > log` on a full disk, or into a pipe whose reader left with
/// SIGPIPE ignored (as under systemd), died mid-run with its lock left behind. Here a
/// failed write to standard output is remembered and later output is dropped: the command
/// runs to its end (a backup still saves its snapshot), then fails with one line on
/// standard error (`Snap.main`). A failed write to standard error is dropped: there is
/// nowhere left to say so.
enum StandardStreams {
    /// The `errno` of the first failed write to standard output; 0 while none failed.
    private static let outputErrno = Atomic<Int32>(0)

    /// Writes `bytes` to standard output, unless an earlier write to it failed.
    static func out(_ bytes: [UInt8]) {
        guard outputErrno.load(ordering: .relaxed) == 0 else { return }
        if let failure = write(STDOUT_FILENO, bytes) {
            _ = outputErrno.compareExchange(expected: 0, desired: failure, ordering: .relaxed)
        }
    }

    /// Writes `bytes` to standard error; a failure is dropped.
    static func err(_ bytes: [UInt8]) { _ = write(STDERR_FILENO, bytes) }

    /// Writes `text` to `fd`: standard output or standard error.
    static func write(_ text: String, to fd: Int32) {
        if fd == STDOUT_FILENO { out(Array(text.utf8)) } else { err(Array(text.utf8)) }
    }

    /// Whether `path` names standard input (`/dev/stdin`, `/proc/self/fd/0`, or any name for
    /// the same pipe or file).
    static func isStandardInput(_ path: String) -> Bool {
        var named = stat(), input = stat()
        guard stat(path, &named) == 0, fstat(STDIN_FILENO, &input) == 0 else { return false }
        return named.st_dev == input.st_dev && named.st_ino == input.st_ino
    }

    /// All of standard input (`--files-from -`), or the `errno` of a failed read.
    static func readInput() -> Result<[UInt8], CLIError> {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if n > 0 { all.append(contentsOf: chunk[0..<n]); continue }
            if n == 0 { return .success(all) }
            if errno == EINTR { continue }
            return .failure(CLIError("cannot read standard input: \(String(cString: strerror(errno)))"))
        }
    }

    /// Why standard output could not be written, when a write to it failed.
    static var outputFailure: String? {
        let code = outputErrno.load(ordering: .relaxed)
        return code == 0 ? nil : String(cString: strerror(code))
    }

    /// Writes all of `bytes`, again after a partial write or a signal; the `errno` of a failure.
    private static func write(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { buffer -> Int32? in
            var done = 0
            while done < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress.map { $0 + done }, buffer.count - done)
                if n > 0 {
                    done += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return n < 0 ? errno : EIO
                }
            }
            return nil
        }
    }
}
