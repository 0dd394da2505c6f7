import Foundation
import SnapComposition
import SnapCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where passwords come from besides the environment.
enum PasswordSource {
    /// Runs `command` with `/bin/sh` and returns its output, less one final newline. A command
    /// that runs longer than `timeout` seconds is ended (SIGTERM, then SIGKILL) and fails, and
    /// an interrupted snap ends it too (`Interruption`).
    ///
    /// The command stays in snap's process group (`ChildProcess`, not Foundation's `Process`,
    /// which gives a child a group of its own): a command that asks on the terminal (`pass`
    /// with a terminal pinentry, `read </dev/tty`) is then in the terminal's foreground group,
    /// where reading does not stop it with SIGTTIN.
    static func run(command: String, timeout: Double, ending: Ending = .lineEnding) throws -> String {
        let child: ChildProcess
        do { child = try ChildProcess.spawn("/bin/sh", arguments: ["sh", "-c", command], input: .null, output: .pipe) } catch {
            throw CLIError("cannot run password command: \(error)")
        }
        let pid = child.pid, fd = child.output ?? -1  // always set for `.pipe`
        Interruption.addChild(pid)
        defer { Interruption.removeChild(pid) }
        let termination = Mutex<ChildProcess.Termination?>(nil)
        let exited = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let end = child.wait()
            termination.withLock { $0 = end }
            exited.signal()
        }
        // Read on another thread: a command that never closes its output must not hold snap.
        let output = Mutex<[UInt8]?>(nil)
        let read = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n > 0 { bytes += buffer[..<n]; continue }
                if n < 0 && errno == EINTR { continue }
                break
            }
            close(fd)
            output.withLock { $0 = bytes }
            read.signal()
        }
        guard exited.wait(timeout: .now() + timeout) == .success else {
            // The shell's children too: one left running would hold snap's output open.
            let tree = [pid] + ProcessTree.descendants(of: pid)
            for p in tree { kill(p, SIGTERM) }
            if exited.wait(timeout: .now() + 2) == .timedOut { for p in tree { kill(p, SIGKILL) } }
            throw CLIError("password command did not finish within \(Int(timeout)) s and was ended; fix it, or allow longer with --password-command-timeout")
        }
        switch termination.withLock({ $0 }) {
        case .exited(0)?: break
        case .exited(let status)?: throw CLIError("password command exited with status \(status)")
        case .signalled(let signal)?: throw CLIError("password command was killed by signal \(signal)")
        case nil: throw CLIError("password command ended in an unknown way")
        }
        // Its output is complete once it has exited, unless a child it left keeps the pipe open.
        guard read.wait(timeout: .now() + 2) == .success, let data = output.withLock({ $0 }) else {
            throw CLIError("password command exited but its output was not closed (a process it started still holds it)")
        }
        return try nonEmpty(ending.strip(String(decoding: data, as: UTF8.self)), source: "password command output")
    }

    /// How much of a password file or command output is the password.
    enum Ending {
        /// All but one final line ending (`\n` or `\r\n`): snap's rule.
        case lineEnding
        /// All but the white space around it: restic's rule, for restic repositories, so
        /// that a password file restic accepts is accepted for them too.
        case whiteSpace

        func strip(_ s: String) -> String {
            switch self {
            case .lineEnding:
                var scalars = Substring(s).unicodeScalars
                if scalars.last == "\n" {
                    scalars.removeLast()
                    if scalars.last == "\r" { scalars.removeLast() }
                }
                return String(scalars)
            case .whiteSpace:
                return s.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
    }

    /// A file, or a pipe as `<(command)` gives (read until it ends).
    static func read(file: String, ending: Ending = .lineEnding) throws -> String {
        let data: [UInt8]
        do {
            data = try SmallFile.read(file, limit: 1 << 20, keep: true)
        } catch {
            throw CLIError("cannot read password file \(file): \(error.cause)")
        }
        return try nonEmpty(ending.strip(String(decoding: data, as: UTF8.self)), source: "password file \(file)")
    }

    /// Asks on the terminal with echo off; without a terminal, fails with `refusal`, which
    /// says which password is missing and how to give it (by default the repository's, and
    /// a restic variable set in place of snap's is named).
    static func prompt(confirm: Bool, label: String = "enter password for repository: ",
                       refusal: String? = nil) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIError(refusal ?? "no password given: set SNAP_PASSWORD or SNAP_PASSWORD_FILE, or use --password-file or --password-command"
                           + ResticVariables.note(["RESTIC_PASSWORD", "RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND"],
                                                  environment: ProcessInfo.processInfo.environment))
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
        // TCSANOW, not TCSAFLUSH: what was typed before the prompt appeared is kept, as
        // restic's prompt keeps it.
        tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            StandardStreams.err(Array("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw CLIError("no password entered") }
        return line
    }

    private static func nonEmpty(_ s: String, source: String) throws -> String {
        guard !s.isEmpty else { throw CLIError("\(source) is empty") }
        return s
    }
}
