import Foundation
import SnapStorage
import Synchronization

/// Runs `rclone serve restic` for an rclone remote (`rclone:REMOTE:PATH`) on a loopback
/// port chosen by rclone, so that every storage system rclone supports can hold a
/// repository with no other setup. The child is stopped when snap exits.
public final class RcloneServer: Sendable {
    /// The REST base URL rclone serves, e.g. `http://127.0.0.1:40123/`.
    public let url: String
    private let process: UncheckedProcess

    /// Starts rclone and waits (at most `timeout` seconds) for it to report its address.
    public init(remote: String, rclone: String = "rclone", timeout: Double = 30) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [rclone, "serve", "restic", "--addr", "127.0.0.1:0", remote]
        let errors = Pipe()
        p.standardError = errors
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw StorageError.permanent(operation: "start rclone", file: nil, location: "rclone:\(remote)",
                                         detail: "cannot run rclone (\(error.localizedDescription)); install it (apt-get install rclone)")
        }
        let found = Mutex<String?>(nil)
        let log = Mutex("")
        let ready = DispatchSemaphore(value: 0)
        let handle = errors.fileHandleForReading
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
            p.terminate()
            let tail = log.withLock { $0 }.split(separator: "\n").last.map(String.init) ?? "no output"
            throw StorageError.permanent(operation: "start rclone", file: nil, location: "rclone:\(remote)", detail: tail)
        }
        self.url = url.hasSuffix("/") ? url : url + "/"
        process = UncheckedProcess(p)
        RcloneServer.running.withLock { $0.append(process) }
        RcloneServer.registerExitHandler
    }

    /// Stops the child process.
    public func stop() {
        if process.value.isRunning { process.value.terminate() }
    }

    /// Stops every rclone this process started: at exit, and from an interrupted command,
    /// which leaves with `_exit` and so runs no exit handlers.
    public static func stopAll() {
        for p in running.withLock({ $0 }) where p.value.isRunning { p.value.terminate() }
    }

    private static let running = Mutex<[UncheckedProcess]>([])
    private static let registerExitHandler: Void = {
        atexit { RcloneServer.stopAll() }
    }()
}

/// A `Process` shared between threads only to terminate it.
struct UncheckedProcess: @unchecked Sendable {
    let value: Process
    init(_ value: Process) { self.value = value }
}
