import Synchronization

/// Live counters of a long command other than backup and check (copy, prune, dump,
/// restore), read by the CLI's progress line and JSON `status` messages: what it is doing,
/// how many of how many items, and bytes moved.
public final class TaskProgress: Sendable {
    public struct Counts: Sendable, Equatable {
        /// What is being done now, for people ("copying snapshot 1a2b3c4d").
        public var phase = ""
        public var done = 0
        /// Zero when not known in advance.
        public var total = 0
        public var bytes: UInt64 = 0
        /// Zero when not known in advance.
        public var totalBytes: UInt64 = 0
        public init() {}
    }

    private let counts = Mutex(Counts())

    public init() {}

    public var snapshot: Counts { counts.withLock { $0 } }

    /// Begins a phase; the counts of the last one are dropped. Public for the CLI's own work (dump's writing).
    public func start(_ phase: String, total: Int = 0, totalBytes: UInt64 = 0) {
        counts.withLock { $0.phase = phase; $0.done = 0; $0.total = total; $0.totalBytes = totalBytes }
    }
    public func step(bytes: UInt64 = 0) { counts.withLock { $0.done += 1; $0.bytes += bytes } }
    public func add(bytes: UInt64) { counts.withLock { $0.bytes += bytes } }
}
