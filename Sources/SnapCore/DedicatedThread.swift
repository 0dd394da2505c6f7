#if canImport(Glibc)
import Glibc
#endif
import CPosix

/// An operating-system thread of its own for work that blocks for a long time.
///
/// libdispatch runs every queue's work on a shared pool of threads that has a fixed limit
/// (255 on Linux). A work item that blocks for as long as a pool of workers lives holds one
/// of those threads all that time: enough of them and the work items behind them never get
/// a thread, while the blocked ones wait for those very items (`WorkerPool` says how a
/// backup hung so). A thread started here takes nothing from that pool.
public enum DedicatedThread {
    /// Starts `body` on a new detached thread, with the default stack size (as libdispatch's
    /// threads have), and returns at once.
    ///
    /// - Parameter name: the thread's name in `top -H`, gdb and `/proc`; its first 15 bytes.
    /// - Returns: `false` when the system refused a thread (`EAGAIN`: a limit on threads or
    ///   processes, or no memory for its stack); `body` then never runs.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        guard let thread = create(name: name, attributes: nil, body) else { return false }
        pthread_detach(thread)
        return true
    }

    /// Runs `body` on a new thread with a stack of `stackSize` bytes and waits for it.
    ///
    /// For the command itself: its walks of folder trees recurse once per level, and the main
    /// thread's stack is what `ulimit -s` says (8 MiB by default, a few hundred KiB under
    /// some service managers), which a tree 2,000 folders deep, still within `PATH_MAX`,
    /// overflows. A thread's stack size is set here, whatever the limit; it is reserved
    /// address space, and only the pages used take memory.
    ///
    /// - Returns: `false` when no such thread could be made (an address-space limit, say);
    ///   `body` then never ran, and the caller runs it where it is.
    public static func runWaiting(name: String, stackSize: Int, _ body: @escaping @Sendable () -> Void) -> Bool {
        var attributes = pthread_attr_t()
        guard pthread_attr_init(&attributes) == 0 else { return false }
        defer { pthread_attr_destroy(&attributes) }
        guard pthread_attr_setstacksize(&attributes, stackSize) == 0,
              let thread = create(name: name, attributes: &attributes, body) else { return false }
        pthread_join(thread, nil)
        return true
    }

    /// A new thread running `body` under `name`; `nil` when the system refused it.
    private static func create(name: String, attributes: UnsafePointer<pthread_attr_t>?, _ body: @escaping @Sendable () -> Void) -> pthread_t? {
        let box = Unmanaged.passRetained(Body(name: name, run: body))
        var thread = pthread_t()
        let status = pthread_create(&thread, attributes, { raw in
            // `raw` is the retained box passed below, never null.
            guard let raw else { return nil }
            let body = Unmanaged<Body>.fromOpaque(raw).takeRetainedValue()
            // The kernel keeps 15 bytes and refuses longer names; a failure changes nothing
            // else, since the name is only for people looking on.
            let name = body.name.utf8.prefix(15).map { CChar(bitPattern: $0) } + [0]
            _ = pthread_setname_np(pthread_self(), name)
            body.run()
            return nil
        }, box.toOpaque())
        guard status == 0 else {
            box.release()
            return nil
        }
        return thread
    }

    /// What a new thread is told, passed to it as one pointer.
    private final class Body: Sendable {
        let name: String
        let run: @Sendable () -> Void
        init(name: String, run: @escaping @Sendable () -> Void) { self.name = name; self.run = run }
    }
}
