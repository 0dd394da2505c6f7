import Glibc
import Synchronization

/// Reads a small file a user named (a password file, a certificate, a repository file): a
/// regular file, or a pipe or fifo as the shell's `<(command)` gives, which restic users
/// pass. A fifo whose writer comes a moment later is waited for; one that no one writes
/// to, or a writer that never ends, must not hang the command: a pipe is read until it
/// ends or `waitSeconds` pass without data. Lists a command makes (`<(find …)`) may be
/// silent for minutes; for them `waitSeconds` is `.infinity`, and Ctrl-C ends the wait.
///
/// With `keep`, what was read is kept for the rest of the process, by file: a pipe can be
/// read only once, and several parts of a command may ask for one file (each replica of a
/// mirror its `--cacert`, the repository file for the replicas and the write policy).
public enum SmallFile {
    private static let kept = Mutex<[String: [UInt8]]>([:])

    /// Why a file could not be read, in words for a message.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// To follow the file's name: "cannot be opened: No such file or directory".
        public let reason: String
        /// To follow a colon: "No such file or directory", "it is a folder".
        public let cause: String
        public var description: String { reason }

        init(reason: String, cause: String) {
            self.reason = reason
            self.cause = cause
        }

        /// A system call's failure: `verb` ("opened") and the error's text.
        static func system(_ verb: String) -> Failure {
            let text = String(cString: strerror(errno))
            return Failure(reason: "cannot be \(verb): \(text)", cause: text)
        }

        /// A failure that reads the same both ways, with "it" before it for `cause`.
        static func state(_ text: String) -> Failure { Failure(reason: text, cause: "it \(text)") }
    }

    /// The bytes of `path`, at most `limit` of them; with `keep`, those kept from an earlier
    /// read of `path` in this process, if any.
    /// - Throws: `Failure` when the file cannot be opened or read, is a folder (or anything
    ///   but a file, pipe or fifo), is larger than `limit`, or is a pipe that gave no data
    ///   for `waitSeconds` (never, when it is `.infinity`).
    public static func read(_ path: String, limit: Int, waitSeconds: Double = 10, keep: Bool = false) throws(Failure) -> [UInt8] {
        guard keep else { return try readNow(path, limit: limit, waitSeconds: waitSeconds) }
        let key = identity(path)
        if let bytes = kept.withLock({ $0[key] }), bytes.count <= limit { return bytes }
        let bytes = try readNow(path, limit: limit, waitSeconds: waitSeconds)
        kept.withLock { $0[key] = bytes }
        return bytes
    }

    /// What `keep` remembers a file by: its device and inode, so that one fifo named two ways
    /// (`ff`, `./ff`, a symlink to it) is read once, as a second read would wait for a writer
    /// that has gone; the path where it cannot be looked at.
    private static func identity(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return path }
        return "\(info.st_dev):\(info.st_ino)"
    }

    private static func readNow(_ path: String, limit: Int, waitSeconds: Double) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)  // a fifo without a writer must not block the open
        guard fd >= 0 else { throw Failure.system("opened") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure.system("read") }
        let type = info.st_mode & S_IFMT
        guard type != S_IFDIR else { throw Failure.state("is a folder") }
        guard type == S_IFREG || type == S_IFIFO || type == S_IFCHR else { throw Failure.state("is not a file") }
        if type == S_IFREG && Int(info.st_size) > limit { throw Failure.state("is \(info.st_size) bytes, more than such a file holds") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count <= limit {
            let n = Glibc.read(fd, &chunk, chunk.count)
            if n > 0 {
                bytes += chunk[..<n]
            } else if n == 0 {
                // The end, unless a fifo's writer has not come yet: poll tells a pipe whose
                // writer left (POLLHUP) from a fifo no writer has opened (nothing, until one does).
                guard type == S_IFIFO, bytes.isEmpty else { return bytes }
                guard let events = awaitData(fd, seconds: waitSeconds) else {
                    throw silence(waitSeconds, "a fifo no one writes to?")
                }
                if events & Int16(POLLIN) == 0 { return bytes }  // the writer left without a word
            } else if errno == EAGAIN {
                // A pipe whose writer has not written yet: wait for it, a while.
                guard awaitData(fd, seconds: waitSeconds) != nil else {
                    throw silence(waitSeconds, "a pipe or fifo no one writes to?")
                }
            } else if errno != EINTR {
                throw Failure.system("read")
            }
        }
        throw Failure.state("holds more than \(limit) bytes, more than such a file holds")
    }

    /// A pipe that gave nothing for the time allowed, or whose wait failed (only that, when
    /// the time is not limited).
    private static func silence(_ seconds: Double, _ guess: String) -> Failure {
        guard seconds.isFinite else { return Failure.system("read") }
        return Failure.state("gave no data for \(Int(seconds)) s (\(guess))")
    }

    /// Waits up to `seconds` for data or a writer's end on `fd`: the events that came, or
    /// `nil` when none did.
    private static func awaitData(_ fd: Int32, seconds: Double) -> Int16? {
        var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&waiting, 1, seconds.isFinite ? Int32(min(seconds * 1000, Double(Int32.max))) : -1)
            if ready > 0 { return waiting.revents }
            if ready == 0 || errno != EINTR { return nil }
        }
    }
}
