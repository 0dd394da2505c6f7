import Glibc
import Synchronization

/// A value that another thread is producing; `wait` blocks until it is there.
///
/// A pending value is its result behind a lock, and nothing more: waiters sleep on one of
/// a few condition variables that all pending values share (`PendingWaitRoom`). A backup
/// keeps one for every file being read (and a multiply-linked file's first name holds one
/// until it is read), and a semaphore of each one's own would cost two allocations more
/// apiece (the Swift object and libdispatch's).
public final class Pending<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)

    public init() {}

    /// A pending value that is already there.
    public init(_ value: Value) { result.withLock { $0 = .success(value) } }

    /// Sets the value (or the error) and wakes every waiter. Call it once.
    public func fulfil(_ outcome: Result<Value, any Error>) {
        result.withLock { $0 = outcome }
        PendingWaitRoom.shared.wakeAll(for: ObjectIdentifier(self))
    }

    /// The value or the error if it is there yet, without waiting.
    public var outcome: Result<Value, any Error>? { result.withLock { $0 } }

    /// The value, or the error it failed with; any number of threads may wait.
    public func wait() throws -> Value {
        if let outcome = result.withLock({ $0 }) { return try outcome.get() }
        return try PendingWaitRoom.shared.wait(for: ObjectIdentifier(self)) { result.withLock { $0 } }.get()
    }
}

/// Condition variables shared by every `Pending`, striped by the value's address so that
/// unrelated waits seldom share one. A waiter looks at its value while holding its
/// stripe's mutex and sleeps only then; a fulfiller takes that mutex after setting the
/// value. So a wake-up is never lost, and one meant for a neighbour only makes a waiter
/// look again.
final class PendingWaitRoom: @unchecked Sendable {
    static let shared = PendingWaitRoom()

    private static let stripes = 64
    private let mutexes: UnsafeMutablePointer<pthread_mutex_t>
    private let conditions: UnsafeMutablePointer<pthread_cond_t>

    private init() {
        mutexes = .allocate(capacity: Self.stripes)
        conditions = .allocate(capacity: Self.stripes)
        for i in 0..<Self.stripes {
            pthread_mutex_init(mutexes + i, nil)
            pthread_cond_init(conditions + i, nil)
        }
    }

    /// Blocks until `check` gives a value, looking again after every wake-up of the stripe.
    func wait<T>(for id: ObjectIdentifier, until check: () -> T?) -> T {
        let i = stripe(id)
        pthread_mutex_lock(mutexes + i)
        defer { pthread_mutex_unlock(mutexes + i) }
        while true {
            if let value = check() { return value }
            pthread_cond_wait(conditions + i, mutexes + i)
        }
    }

    /// Wakes every thread waiting on the stripe of `id`.
    func wakeAll(for id: ObjectIdentifier) {
        let i = stripe(id)
        pthread_mutex_lock(mutexes + i)
        pthread_cond_broadcast(conditions + i)
        pthread_mutex_unlock(mutexes + i)
    }

    static func stripeForTesting(_ id: ObjectIdentifier) -> Int { shared.stripe(id) }

    private func stripe(_ id: ObjectIdentifier) -> Int {
        // Objects are 16-byte aligned: mix the address so that neighbours spread out.
        let mixed = (UInt(bitPattern: id) >> 4) &* 0x9E37_79B9_7F4A_7C15
        return Int(mixed >> (UInt.bitWidth - 6))  // 64 stripes
    }
}
