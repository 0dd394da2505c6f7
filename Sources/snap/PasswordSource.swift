import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where passwords come from besides the environment.
enum PasswordSource {
    /// Runs `command` with `/bin/sh` and returns its output, less one final newline. A command
    /// that runs longer than `timeout` seconds is ended (SIGTERM, then SIGKILL) and fails, and
    /// an interrupted snap ends it too (`Interruption`).
    static func run(command: String, timeout: Double) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do { try process.run() } catch { throw CLIError("cannot run password command: \(error.localizedDescription)") }
        let pid = process.processIdentifier
        Interruption.addChild(pid)
        defer { Interruption.removeChild(pid) }
        // Read on another thread: a command that never closes its output must not hold snap.
        let output = Mutex<Data?>(nil)
        let read = DispatchSemaphore(value: 0)
        let reader = pipe.fileHandleForReading
        Thread.detachNewThread {
            let data = reader.readDataToEndOfFile()
            output.withLock { $0 = data }
            read.signal()
        }
        guard exited.wait(timeout: .now() + timeout) == .success else {
            // The shell's children too: one left running would hold snap's output open.
            let tree = [pid] + ProcessTree.descendants(of: pid)
            for p in tree { kill(p, SIGTERM) }
            if exited.wait(timeout: .now() + 2) == .timedOut { for p in tree { kill(p, SIGKILL) } }
            throw CLIError("password command did not finish within \(Int(timeout)) s and was ended; fix it, or allow longer with --password-command-timeout")
        }
        guard process.terminationStatus == 0 else {
            throw CLIError("password command exited with status \(process.terminationStatus)")
        }
        // Its output is complete once it has exited, unless a child it left keeps the pipe open.
        guard read.wait(timeout: .now() + 2) == .success, let data = output.withLock({ $0 }) else {
            throw CLIError("password command exited but its output was not closed (a process it started still holds it)")
        }
        return try nonEmpty(stripNewline(String(decoding: data, as: UTF8.self)), source: "password command output")
    }

    static func read(file: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError("cannot read password file \(file)")
        }
        return try nonEmpty(stripNewline(String(decoding: data, as: UTF8.self)), source: "password file \(file)")
    }

    /// Asks on the terminal with echo off; refuses when there is no terminal.
    static func prompt(confirm: Bool, label: String = "enter password for repository: ") throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIError("no password given: set SNAP_PASSWORD or SNAP_PASSWORD_FILE, or use --password-file or --password-command")
        }
        let first = try ask(label)
        if confirm, try ask("enter password again: ") != first { throw CLIError("passwords do not match") }
        return try nonEmpty(first, source: "password")
    }

    private static func ask(_ prompt: String) throws -> String {
        StandardStreams.err(Array(prompt.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            StandardStreams.err(Array("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw CLIError("no password entered") }
        return line
    }

    private static func stripNewline(_ s: String) -> String {
        if s.hasSuffix("\r\n") { return String(s.dropLast(2)) }
        if s.hasSuffix("\n") { return String(s.dropLast()) }
        return s
    }

    private static func nonEmpty(_ s: String, source: String) throws -> String {
        guard !s.isEmpty else { throw CLIError("\(source) is empty") }
        return s
    }
}
