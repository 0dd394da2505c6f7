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
        /// Packs verified in full so far, of `packTotal`; this runs beside the tree phase.
        public var packsRead = 0
        public var packTotal = 0
        public var bytes: UInt64 = 0
        /// The check runs again, under its lock, after a first look found an error.
        public var again = false
    }

    private let counts = Mutex(Counts())

    public init() {}

    public var snapshot: Counts { counts.withLock { $0 } }

    func start(_ phase: Phase, total: Int = 0) {
        counts.withLock { $0.phase = phase; $0.done = 0; $0.total = total }
    }
    func step() { counts.withLock { $0.done += 1 } }
    func checkingAgain() { counts.withLock { $0.again = true; $0.packsRead = 0; $0.packTotal = 0; $0.bytes = 0 } }
    func startReadingPacks(total: Int) { counts.withLock { $0.packTotal = total } }
    func packRead(bytes: UInt64) { counts.withLock { $0.packsRead += 1; $0.bytes += bytes } }
}
