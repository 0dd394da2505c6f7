#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SnapCore
import SnapRepository
import Synchronization

/// A lock held by this process in `locks/`, refreshed in the background until released.
///
/// Backups hold a `backup` lock from before they load the index until after their
/// snapshot is written; prune holds a `prune` lock. Neither kind blocks the other.
public final class RepositoryLock: Sendable {
    private struct State {
        var current: RawID
        var lastRefresh: Timestamp
        var released = false
    }

    private let repository: Repository
    private let base: CoordinationRecord
    private let timing: LockTiming
    private let state: Mutex<State>
    private let stopped = DispatchSemaphore(value: 0)

    /// Writes the lock and starts refreshing it.
    public init(kind: CoordinationRecord.Kind, repository: Repository, hostname: String, timing: LockTiming = LockTiming()) throws {
        let now = WallClock.nowText
        base = CoordinationRecord(kind: kind, hostname: hostname, pid: getpid(), created: now, refreshed: now)
        self.repository = repository
        self.timing = timing
        let id = try Coordination.write(base, in: repository)
        state = Mutex(State(current: id, lastRefresh: WallClock.now))
        Thread.detachNewThread { [self] in refreshLoop() }
    }

    /// When the lock was written.
    public var created: Timestamp { base.createdTime }

    /// When the lock was last rewritten successfully.
    public var lastRefresh: Timestamp { state.withLock { $0.lastRefresh } }

    /// Stops refreshing and removes the lock.
    public func release() {
        let id: RawID? = state.withLock { s in
            guard !s.released else { return nil }
            s.released = true
            return s.current
        }
        guard let id else { return }
        stopped.signal()
        try? Coordination.remove(id, in: repository)
    }

    deinit { release() }

    private func refreshLoop() {
        while stopped.wait(timeout: .now() + timing.refreshInterval) == .timedOut {
            var record = base
            record.refreshed = WallClock.nowText
            guard let fresh = try? Coordination.write(record, in: repository) else { continue }  // try again next round
            let old: RawID? = state.withLock { s in
                guard !s.released else { return fresh }  // released meanwhile: remove the fresh copy
                defer { s.current = fresh; s.lastRefresh = WallClock.now }
                return s.current
            }
            if let old { try? Coordination.remove(old, in: repository) }
        }
    }
}
