import Foundation
import SnapCore
import SnapCrypto
import SnapStorage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs `rclone serve restic` for an rclone remote (`rclone:REMOTE:PATH`) on a loopback
/// port chosen by rclone, so that every storage system rclone supports can hold a
/// repository with no other setup.
///
/// - **Only snap may use it.** A loopback port is open to every user of the machine, so
///   the server takes HTTP basic authentication with a user name and password drawn at
///   random for this run, handed to rclone in its environment (`RCLONE_USER`,
///   `RCLONE_PASS`), which other users cannot read, never on its command line, which they can.
/// - **It outlives a Ctrl-C long enough for the cleanup.** rclone runs in a process group
///   of its own, so the SIGINT the terminal sends to snap's group does not end it before
///   snap has removed its lock and indexed its uploads through it.
/// - **It never outlives snap.** rclone is started by a small `sh` guard that holds the
///   read end of a pipe whose write end only snap holds; when snap exits by any means
///   (SIGKILL and the OOM killer included) the pipe closes and the guard ends rclone.
///   restic reaches the same end by talking HTTP/2 over rclone's stdin (`--stdio`), which
///   libcurl cannot do over a pipe.
public final class RcloneServer: Sendable {
    /// The REST base URL rclone serves, e.g. `http://127.0.0.1:40123/`.
    public let url: String
    /// The credentials the server takes (HTTP basic).
    public let username: String, password: String
    /// The write end of the guard's pipe; closing it stops rclone (-1 once closed).
    private let lifeline: Mutex<Int32>

    /// Starts rclone and waits (at most `timeout` seconds) for it to report its address.
    public init(remote: String, rclone: String = "rclone", timeout: Double = 30) throws {
        let location = "rclone:\(remote)"
        username = Hex.encode(try SecureRandom.bytes(16))
        password = Hex.encode(try SecureRandom.bytes(16))
        var environment = ProcessInfo.processInfo.environment
        // A user's own htpasswd setting would replace the credentials drawn here.
        environment["RCLONE_HTPASSWD"] = nil
        environment["RCLONE_USER"] = username
        environment["RCLONE_PASS"] = password
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn("/bin/sh", arguments: ["sh", "-c", Self.guardScript, "sh", rclone, "serve", "restic", "--addr", "127.0.0.1:0", remote],
                                           environment: environment, input: .pipe, output: .null, errors: .pipe, newProcessGroup: true)
        } catch {
            throw StorageError.permanent(operation: "start rclone", file: nil, location: location, detail: "cannot run /bin/sh: \(error)")
        }
        lifeline = Mutex(child.input ?? -1)  // both set for `.pipe`
        let found = Mutex<String?>(nil)
        let log = Mutex("")
        let ready = DispatchSemaphore(value: 0)
        let handle = FileHandle(fileDescriptor: child.errors ?? -1, closeOnDealloc: true)
        Thread.detachNewThread {
            var buffer = ""
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer += String(decoding: chunk, as: UTF8.self)
                log.withLock { $0 = String(buffer.suffix(2000)) }
                if found.withLock({ $0 }) == nil, let range = buffer.range(of: "Serving restic REST API on ") {
                    let rest = buffer[range.upperBound...]
                    if let end = rest.firstIndex(where: { $0 == "\n" || $0 == " " }) {
                        found.withLock { $0 = String(rest[..<end]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }
                        ready.signal()
                    }
                }
            }
            ready.signal()  // rclone exited
        }
        _ = ready.wait(timeout: .now() + timeout)
        guard let url = found.withLock({ $0 }) else {
            kill(-child.pid, SIGTERM)  // the guard and rclone, in their own group
            let tail = log.withLock { $0 }.split(separator: "\n").last.map { Self.withoutTimestamp(String($0)) }
                ?? "no output within \(Int(timeout)) s"
            let missing = child.wait() == .exited(127)
            throw StorageError.permanent(operation: "start rclone", file: nil, location: location,
                                         detail: missing ? "cannot run \(rclone) (\(tail)); install it (apt-get install rclone) or name it with -o rclone.program=PATH or SNAP_RCLONE_PROGRAM" : tail)
        }
        self.url = url.hasSuffix("/") ? url : url + "/"
    }

    deinit { stop() }

    /// A log line of rclone's without its leading `2006/01/02 15:04:05 ` time.
    static func withoutTimestamp(_ line: String) -> String {
        let bytes = Array(line.utf8)
        let shape = Array("0000/00/00 00:00:00 ".utf8)
        guard bytes.count > shape.count, zip(bytes, shape).allSatisfy({ $1 == UInt8(ascii: "0") ? (48...57).contains($0) : $0 == $1 }) else {
            return line
        }
        return String(decoding: bytes[shape.count...], as: UTF8.self)
    }

    /// Stops rclone (its guard ends it once the pipe closes).
    public func stop() {
        lifeline.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    /// Runs `"$@"` (rclone) without the pipe on its standard input, and ends it once the pipe
    /// from snap reaches its end (snap closed it or exited); exits when rclone does, with its
    /// status, so that a failed start ends standard error too. Non-interactive `sh` gives an
    /// asynchronous command `/dev/null` as standard input, hence the pipe on descriptor 3.
    private static let guardScript = """
        exec 3<&0 </dev/null
        "$@" 3<&- &
        server=$!
        { read -r _ <&3; kill "$server" 2>/dev/null; } &
        watcher=$!
        exec 3<&-
        wait "$server"
        status=$?
        kill "$watcher" 2>/dev/null
        exit "$status"
        """
}
