import CPosix
#if canImport(Glibc)
import Glibc
#endif

/// A program started with `posix_spawn` whose standard output is a pipe snap reads, with
/// the signal mask emptied and SIGINT, SIGTERM, SIGHUP and SIGPIPE at their defaults.
///
/// Why not Foundation's `Process`: snap blocks SIGINT, SIGTERM and SIGHUP in every thread
/// (`Interruption` takes them with `sigwait`), a child inherits the mask, and `Process`
/// does not reset it, so a program run directly (`--stdin-from-command -- pg_dump db`) ran
/// deaf to Ctrl-C and to the SIGTERM with which an interrupted snap ends it, and was left
/// running. `posix_spawnattr_setsigmask` is the one place to reset it.
struct ChildProcess {
    let pid: pid_t
    /// The read end of the child's standard output (close-on-exec; the caller closes it).
    let output: Int32

    /// How the child ended.
    enum Termination: Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    /// Starts `path` with `arguments` (the first is the program's name) and snap's environment.
    ///
    /// - Throws: the `errno` of `pipe2` or `posix_spawn` (ENOENT, EACCES…).
    static func spawn(_ path: String, arguments: [String]) throws(ChildProcessError) -> ChildProcess {
        var ends: [Int32] = [-1, -1]
        guard pipe2(&ends, O_CLOEXEC) == 0 else { throw ChildProcessError(errno: errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], STDOUT_FILENO)  // dup2 clears close-on-exec
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, &attributes, &cArguments, environ)
        close(ends[1])
        guard status == 0 else {
            close(ends[0])
            throw ChildProcessError(errno: status)
        }
        return ChildProcess(pid: pid, output: ends[0])
    }

    /// Waits for the child to end.
    func wait() -> Termination {
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
struct ChildProcessError: Error, CustomStringConvertible {
    let errno: Int32
    var description: String { String(cString: strerror(errno)) }
}
