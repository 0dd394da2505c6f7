import Foundation
import SnapComposition
import SnapCore
import SnapEngine
import SnapStorage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGHUP end a command cleanly: its locks and the temporary files it is
/// writing are removed (so other hosts do not wait for the locks to go stale), its child
/// processes are ended, one line says
/// what was and was not saved, and snap exits with 128 + the signal's number. A second
/// signal exits at once.
///
/// Nothing half-written needs undoing: every repository file appears atomically (FORMAT.md,
/// "Write order"), packs are assembled in unnamed files that vanish with the process, and a
/// snapshot is written last. The signals are blocked in every thread and taken by one thread
/// with `sigwait`, so the cleanup runs as ordinary code rather than in a signal handler.
enum Interruption {
    private static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    /// What the running command has saved so far, for the interruption line (`stoppedOutcome`
    /// while it has said nothing), and whether it is a result that stands once the command
    /// has ended (`setResult`); an account of work under way gives way to `endedOutcome` then.
    private static let outcome = Mutex<(text: String, stands: Bool)?>(nil)
    private static let stoppedOutcome = "stopped; the repository stays consistent (its files are written whole or not at all)"
    private static let endedOutcome = "the command had ended; its result stands"
    /// Set by `commandEnded`: only the wait for the lock's removal is left.
    private static let ended = Atomic<Bool>(false)
    private static let children = Mutex<[pid_t]>([])
    /// Set once the cleanup of `finish` has begun.
    private static let finishing = Atomic<Bool>(false)
    /// A command's own way to stop on the first signal (mount: unmount, then exit 0).
    private static let handler = Mutex<(@Sendable (Int32) -> Void)?>(nil)

    /// Blocks the signals (threads started later inherit the mask) and starts the thread that
    /// takes them. Call first thing in `main`, before any other thread exists.
    static func install() {
        var set = signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        Thread.detachNewThread { waitForSignals() }
    }

    /// Sets the interruption line's account of what is saved, e.g. "nothing was saved".
    static func setOutcome(_ text: String) { outcome.withLock { $0 = (text, false) } }

    /// Sets the interruption line's account to a result that stands once the command has
    /// ended, e.g. "snapshot 1a2b3c4d was saved".
    static func setResult(_ text: String) { outcome.withLock { $0 = (text, true) } }

    /// The command has ended (only the wait for its lock's removal is left): an interruption
    /// now says so, with its result (`setResult`) in place of an account of work under way
    /// ("restore incomplete"), and its notice says what it waits for.
    static func commandEnded() { ended.store(true, ordering: .releasing) }

    /// Makes the first signal call `body` (on a thread of its own) instead of the usual
    /// cleanup and exit: for a command whose normal end is being stopped, like `mount`.
    /// A second signal still exits at once.
    static func handleFirstSignal(_ body: @escaping @Sendable (Int32) -> Void) { handler.withLock { $0 = body } }

    /// A child process to end (SIGTERM) if snap is interrupted.
    static func addChild(_ pid: pid_t) { children.withLock { $0.append(pid) } }
    static func removeChild(_ pid: pid_t) { children.withLock { $0.removeAll { $0 == pid } } }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        return set
    }

    private static func waitForSignals() {
        var set = signalSet()
        var first: Int32?
        while true {
            var received: Int32 = 0
            guard sigwait(&set, &received) == 0 else { continue }
            if first != nil {  // a second signal: leave now
                // The cleanup is cut short: a lock it was removing may stay.
                say("snap: interrupted again by \(signalName(received)): leaving at once\(isFinishing ? locksLeftNote : "")")
                _exit(128 + received)
            }
            first = received
            let signal = received
            // On a thread of their own, so that a second signal is still taken; here, where
            // the system refuses a thread (a limit on processes), rather than not at all.
            if let body = handler.withLock({ $0 }) {
                if !DedicatedThread.start(name: "snap-signal", { body(signal) }) { body(signal) }
                continue
            }
            if !DedicatedThread.start(name: "snap-signal", { finish(signal) }) { finish(signal) }
        }
    }

    /// How long the cleanup may take before snap says it is waiting, and before it gives up.
    static let cleanupNotice = 2.0, cleanupLimit = 60.0

    /// Whether an interruption's cleanup has begun.
    static var isFinishing: Bool { finishing.load(ordering: .acquiring) }

    /// Called where a command fails, before it says so: a failure while snap is being
    /// interrupted is the interruption's doing (a child it ended, a lock it removed), so the
    /// failing thread waits for `finish` to exit with its line and 128 + the signal, rather
    /// than racing it with another message and exit code 1.
    static func yieldIfInterrupted() {
        guard finishing.load(ordering: .acquiring) else { return }
        while true { sleep(60) }  // `finish` ends the process within `cleanupLimit`
    }

    private static func signalName(_ signal: Int32) -> String {
        signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : signal == SIGHUP ? "SIGHUP" : "signal \(signal)"
    }

    private static let locksLeftNote = " (the repository did not answer in time: a lock may be left, which goes stale and is then passed over; "
        + "'snap unlock' on this host removes it now)"

    /// A line on standard error, written at once (no lock another thread may hold); under
    /// --json a JSON error object, as standard error then holds only JSON (docs/json.md).
    private static func say(_ text: String) {
        let line = (Output.jsonErrors ? Output.jsonText(ErrorMessageJSON(error: .init(message: text))) : text) + "\n"
        _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
    }

    private static func finish(_ signal: Int32) {
        finishing.store(true, ordering: .releasing)
        let name = signalName(signal)
        // The cleanup talks to the repository (the index of uploaded packs, the lock), which
        // may be a server that no longer answers: it runs on a thread of its own, and snap
        // says so when it takes long, and leaves without it after `cleanupLimit`.
        let done = DispatchSemaphore(value: 0)
        let cleanup: @Sendable () -> Void = {
            // What is left to send (the index of uploaded packs, the lock's removal) must not
            // wait its turn behind transfers at a `--limit-upload` of a few KiB/s.
            TransferLimits.liftAll()
            for pid in children.withLock({ $0 }) {
                for p in [pid] + ProcessTree.descendants(of: pid) { kill(p, SIGTERM) }
            }
            ActiveLocks.releaseAll()
            InFlightFiles.removeAll()
            // A removal the command started (`RepositoryLock.release`) may still be under way
            // (the interruption may have come during the end-of-process wait for it): given a
            // moment more, then said to be left, since the signal asked snap to stop.
            _ = RepositoryLock.finishRemovals(within: cleanupNotice)
            done.signal()
        }
        if !DedicatedThread.start(name: "snap-cleanup", cleanup) { cleanup() }
        var unfinished = false
        // Once the command has ended, the cleanup only gives the lock's removal `cleanupNotice`
        // more: a notice offering to leave at once would come as it ends anyway.
        let notice = ended.load(ordering: .acquiring) ? cleanupNotice + 1 : cleanupNotice
        if done.wait(timeout: .now() + notice) == .timedOut {
            let work = ended.load(ordering: .acquiring) ? "waiting for the storage to remove the lock" : "removing the lock and indexing what was uploaded"
            say("snap: interrupted by \(name): \(work); interrupt again to leave at once")
            unfinished = done.wait(timeout: .now() + cleanupLimit) == .timedOut
        }
        if unfinished { InFlightFiles.removeAll() }
        let locksLeft = unfinished || !RepositoryLock.finishRemovals(within: 0).isEmpty
        let account = outcome.withLock { $0 }
        let saved: String
        if !ended.load(ordering: .acquiring) {
            saved = account?.text ?? stoppedOutcome
        } else if let account, account.stands {
            saved = "\(endedOutcome): \(account.text)"
        } else {
            saved = endedOutcome
        }
        say("snap: interrupted by \(name): \(saved)\(locksLeft ? locksLeftNote : "")")
        // `_exit`, not `exit`: the other threads are still running, and exit's teardown
        // under them can crash. Everything exit would do is done above.
        _exit(128 + signal)
    }
}

/// Processes started by a child of snap, found through /proc: a shell command's children
/// are not in snap's sight otherwise, and they share its terminal's process group, which
/// a password prompt (gpg, pass) needs, so they cannot be put in a group of their own.
enum ProcessTree {
    /// Every process descending from `pid`, children before grandchildren.
    static func descendants(of pid: pid_t) -> [pid_t] {
        var parents: [pid_t: pid_t] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // "pid (comm) state ppid …": the name may hold spaces and parentheses.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { parents[child] = parent }
        }
        var found: [pid_t] = []
        var frontier = [pid]
        while !frontier.isEmpty {
            let next = parents.filter { frontier.contains($0.value) }.map(\.key)
            found += next
            frontier = next
        }
        return found
    }
}
