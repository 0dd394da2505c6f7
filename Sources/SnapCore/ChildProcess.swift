import CPosix
#if canImport(Glibc)
import Glibc
#endif

/// A program started with `posix_spawn`, with the signal mask emptied and SIGINT, SIGTERM,
/// SIGHUP, SIGPIPE and SIGXFSZ at their defaults, and each standard stream inherited, opened on
/// `/dev/null`, or a pipe to snap.
///
/// Why not Foundation's `Process`: snap blocks SIGINT, SIGTERM and SIGHUP in every thread
/// (`Interruption` takes them with `sigwait`), a child inherits the mask, and `Process`
/// does not reset it, so a program run directly (`--stdin-from-command -- pg_dump db`) ran
/// deaf to Ctrl-C and to the SIGTERM with which an interrupted snap ends it, and was left
/// running. `posix_spawnattr_setsigmask` is the one place to reset it. `Process` also puts
/// every child in a process group of its own, where a command that asks on the terminal
/// is stopped by SIGTTIN; here the group is the caller's choice (`rclone serve` gets its
/// own, so that Ctrl-C at the terminal does not end it before snap's cleanup).
public struct ChildProcess: Sendable {
    public let pid: pid_t
    /// The write end of the child's standard input, when it is `.pipe` (close-on-exec; the caller closes it).
    public let input: Int32?
    /// The read end of the child's standard output, when it is `.pipe` (close-on-exec; the caller closes it).
    public let output: Int32?
    /// The read end of the child's standard error, when it is `.pipe` (close-on-exec; the caller closes it).
    public let errors: Int32?

    /// What a standard stream of the child is.
    public enum Stream: Sendable { case inherit, null, pipe }

    /// How the child ended.
    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
    }

    /// Starts `path` with `arguments` (the first is the program's name).
    ///
    /// - Parameters:
    ///   - environment: the child's environment; `nil` passes snap's own.
    ///   - newProcessGroup: puts the child in a process group of its own, out of reach of
    ///     the signals the terminal sends to snap's group (Ctrl-C).
    /// - Throws: the `errno` of `pipe2`, `open` or `posix_spawn` (ENOENT, EACCES…).
    public static func spawn(_ path: String, arguments: [String], environment: [String: String]? = nil,
                             input: Stream = .inherit, output: Stream = .pipe, errors: Stream = .inherit,
                             newProcessGroup: Bool = false) throws(ChildProcessError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // For each piped stream: (snap's end, the child's end, which closes in snap after the spawn).
        var pipes: [Int32: (ours: Int32, theirs: Int32)] = [:]
        func closeAll() { for p in pipes.values { close(p.ours); close(p.theirs) } }
        for (fd, stream) in [(STDIN_FILENO, input), (STDOUT_FILENO, output), (STDERR_FILENO, errors)] {
            switch stream {
            case .inherit: continue
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0)
            case .pipe:
                var ends: [Int32] = [-1, -1]
                guard pipe2(&ends, O_CLOEXEC) == 0 else {
                    let code = errno
                    closeAll()
                    throw ChildProcessError(errno: code)
                }
                let pair = fd == STDIN_FILENO ? (ours: ends[1], theirs: ends[0]) : (ours: ends[0], theirs: ends[1])
                pipes[fd] = pair
                posix_spawn_file_actions_adddup2(&actions, pair.theirs, fd)  // dup2 clears close-on-exec
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        // SIGXFSZ too: snap ignores it (its writes report EFBIG), a child need not.
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGXFSZ] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var cEnvironment = (environment?.map { strdup("\($0.key)=\($0.value)") } ?? []) + [nil]
        defer { cEnvironment.forEach { free($0) } }
        var pid: pid_t = 0
        let status = environment == nil
            ? posix_spawn(&pid, path, &actions, &attributes, &cArguments, environ)
            : posix_spawn(&pid, path, &actions, &attributes, &cArguments, &cEnvironment)
        for p in pipes.values { close(p.theirs) }
        guard status == 0 else {
            for p in pipes.values { close(p.ours) }
            throw ChildProcessError(errno: status)
        }
        return ChildProcess(pid: pid, input: pipes[STDIN_FILENO]?.ours, output: pipes[STDOUT_FILENO]?.ours,
                            errors: pipes[STDERR_FILENO]?.ours)
    }

    /// Waits for the child to end.
    public func wait() -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return .exited(-1) }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import (they are macros).
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}

/// A child process could not be started.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let errno: Int32
    public var description: String { String(cString: strerror(errno)) }
}
