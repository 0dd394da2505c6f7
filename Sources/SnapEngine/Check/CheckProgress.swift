import Synchronization

/// Live counters of a running check or repair, read by the CLI's progress line.
public final class CheckProgress: Sendable {
    public enum Phase: String, Sendable {
        case index = "reading index"
        case packs = "listing packs"
        case headers = "reading pack headers"
        case snapshots = "reading snapshots"
        case trees = "checking trees"
        case readData = "reading packs"
        case locate = "finding damaged files"
        case rewrite = "rewriting snapshots"
    }

    public struct Counts: Sendable {
        public var phase = Phase.index
        public var done = 0
        /// Zero when the total is not known in advance (trees).
        public var total = 0
        public var bytes: UInt64 = 0
    }

    private let counts = Mutex(Counts())

    public init() {}

    public var snapshot: Counts { counts.withLock { $0 } }

    func start(_ phase: Phase, total: Int = 0) { counts.withLock { $0 = Counts(phase: phase, done: 0, total: total, bytes: $0.bytes) } }
    func step(bytes: UInt64 = 0) { counts.withLock { $0.done += 1; $0.bytes += bytes } }
}
