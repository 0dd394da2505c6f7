#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SnapCore
import SnapRepository
import SnapStorage
import Synchronization

/// A lock held by this process in `locks/`, refreshed in the background until released.
///
/// Backups hold a `backup` lock from before they load the index until after their
/// snapshot is written; prune holds a `prune` lock. Neither kind blocks the other.
///
/// Writing the lock also measures this host's clock against the storage's: the storage's
/// modification time of the lock just written (file system, `Last-Modified` or `Date`),
/// taken from the listing of `locks/` that follows when the caller asks for one (`withScan`),
/// and from a `stat` of the lock otherwise or where the listing has no times.
/// A host further off than `LockTiming.clockSkew` gets `CoordinationError.clockSkew`
/// instead of a lock, because its lock times would mislead other hosts.
public final class RepositoryLock: Sendable {
    private struct State {
        var current: RawID
        var refreshes: RefreshRecord
        var released = false
    }

    private let repository: Repository
    private let base: CoordinationRecord
    private let timing: LockTiming
    private let state: Mutex<State>
    private let stopped = DispatchSemaphore(value: 0)
    /// Storage time minus this host's time, in seconds, when the backend reports file times.
    public let clockOffset: Double?

    /// Writes the lock, checks this host's clock against the storage's, and starts refreshing.
    public convenience init(kind: CoordinationRecord.Kind, repository: Repository, hostname: String,
                            timing: LockTiming = LockTiming()) throws {
        var unused: LockedListing.Scanned?
        try self.init(kind: kind, repository: repository, hostname: hostname, timing: timing, listing: nil, scanned: &unused)
    }

    /// Writes the lock, then scans `locks/` (`Coordination.scan(_:times:)`), as a caller that
    /// looks at the other writers at once would: the lock's own time comes from that listing,
    /// which saves a request. Returns the lock and the scan, this lock among its files.
    public static func withScan(kind: CoordinationRecord.Kind, repository: Repository, hostname: String,
                                timing: LockTiming = LockTiming()) throws -> (lock: RepositoryLock, scan: CoordinationScan) {
        let locked = try withListing(kind: kind, repository: repository, hostname: hostname, timing: timing, listing: [])
        return (locked.lock, locked.scan)
    }

    /// Like `withScan`, and lists the folders of `kinds` together with `locks/`
    /// (`Backend.list(kinds:)`: one request on S3 for a small repository). Each folder is
    /// listed after the lock was written.
    public static func withListing(kind: CoordinationRecord.Kind, repository: Repository, hostname: String,
                                   timing: LockTiming = LockTiming(), listing kinds: [FileKind]) throws -> LockedListing {
        var scanned: LockedListing.Scanned?
        let lock = try RepositoryLock(kind: kind, repository: repository, hostname: hostname, timing: timing,
                                      listing: [.locks] + kinds.filter { $0 != .locks }, scanned: &scanned)
        let result = scanned ?? LockedListing.Scanned(scan: CoordinationScan(), listing: KindListing(files: [:], inRequestedOrder: true), lockTime: nil)
        return LockedListing(lock: lock, scan: result.scan, listing: result.listing, lockTime: result.lockTime)
    }

    /// - Parameter listing: when not `nil`, these folders (`locks/` first) are listed right
    ///   after the lock was written, and `scanned` receives `locks/` scanned and the listing.
    private init(kind: CoordinationRecord.Kind, repository: Repository, hostname: String, timing: LockTiming,
                 listing kinds: [FileKind]?, scanned: inout LockedListing.Scanned?) throws {
        let now = WallClock.nowText
        base = CoordinationRecord(kind: kind, hostname: hostname, pid: getpid(), created: now, refreshed: now)
        self.repository = repository
        self.timing = timing
        let before = WallClock.seconds
        ActiveLocks.beginWrite()
        defer { ActiveLocks.endWrite() }
        let id = try Coordination.write(base, in: repository)
        let after = WallClock.seconds
        if let kinds {
            do {
                let listing = try repository.backend.list(kinds: kinds)
                let scan = try Coordination.scan(repository, times: true, listed: listing[.locks])
                let time = scan.files.first(where: { $0.id == id })?.modified
                scanned = LockedListing.Scanned(scan: scan, listing: listing, lockTime: time)
            } catch {
                try? Coordination.remove(id, in: repository)
                throw error
            }
        }
        let stored = scanned?.lockTime ?? (try? repository.backend.stat(FileName(.locks, id.hex)).modified)
        // HTTP times have whole seconds: the offset is known to about a second, plenty here.
        clockOffset = stored.map { $0 - (before + after) / 2 }
        if let offset = clockOffset, abs(offset) > timing.clockSkew {
            try? Coordination.remove(id, in: repository)
            throw CoordinationError.clockSkew(offset: offset, allowed: timing.clockSkew, location: repository.backend.location)
        }
        state = Mutex(State(current: id, refreshes: RefreshRecord(at: Clock.now())))
        ActiveLocks.add(self)
        Thread.detachNewThread { [self] in refreshLoop() }
    }

    /// The longest time, in seconds, that the lock went without a successful write since it
    /// was taken, up to now (`Clock`, which counts a suspended machine's sleep): what other
    /// hosts may have taken for a dead lock. A refresh after a long gap does not undo it.
    public var longestSilence: Double {
        let now = Clock.now()
        return state.withLock { $0.refreshes.longestSilence(at: now) }
    }

    /// The storage's current time as well as this host can tell: its own clock corrected by
    /// the offset measured when the lock was written.
    public var storageNow: Timestamp {
        let seconds = WallClock.seconds + (clockOffset ?? 0)
        return Timestamp(seconds: Int64(seconds.rounded(.down)), nanoseconds: 0)
    }

    /// Removals `release` started in this process that have not finished, and those that
    /// failed, by the lock's file name in `locks/`.
    private struct Removals {
        var running: Set<String> = []
        var failed: Set<String> = []
    }
    private static let removals = Mutex(Removals())

    /// Waits up to `seconds` for the lock removals `release` left running, and returns the
    /// names of the locks they have not removed (still running, or failed): those may stay
    /// in `locks/` until they go stale. The end of a process calls it, so that a removal cut
    /// off by the exit is said.
    ///
    /// - Parameter keepWaiting: asked between looks; `false` stops the wait at once.
    public static func finishRemovals(within seconds: Double, while keepWaiting: () -> Bool = { true }) -> [String] {
        let deadline = Clock.now() + seconds
        while true {
            let (running, left) = removals.withLock { (!$0.running.isEmpty, $0.running.union($0.failed)) }
            if !running || Clock.now() >= deadline || !keepWaiting() { return left.sorted() }
            usleep(20_000)
        }
    }

    /// Stops refreshing and removes the lock, waiting for the removal at most
    /// `LockTiming.releaseWait` seconds: past that, the removal goes on while the command
    /// finishes, and the process's end waits for it (`finishRemovals`).
    public func release() {
        let id: RawID? = state.withLock { s in
            guard !s.released else { return nil }
            s.released = true
            return s.current
        }
        guard let id else { return }
        ActiveLocks.remove(self)
        stopped.signal()
        let removed = DispatchSemaphore(value: 0)
        let repository = self.repository
        let name = id.hex
        Self.removals.withLock { _ = $0.running.insert(name) }
        Thread.detachNewThread {
            let done = (try? Coordination.remove(id, in: repository)) != nil
            Self.removals.withLock { r in
                r.running.remove(name)
                if !done { r.failed.insert(name) }
            }
            removed.signal()
        }
        _ = removed.wait(timeout: .now() + timing.releaseWait)
    }

    deinit { release() }

    private func refreshLoop() {
        while stopped.wait(timeout: .now() + timing.refreshInterval) == .timedOut {
            // Counted as a lock being written, so that an interruption waits for it.
            ActiveLocks.beginWrite()
            defer { ActiveLocks.endWrite() }
            var record = base
            record.refreshed = WallClock.nowText
            guard let fresh = try? Coordination.write(record, in: repository) else { continue }  // try again next round
            let old: RawID? = state.withLock { s in
                guard !s.released else { return fresh }  // released meanwhile: remove the fresh copy
                defer { s.current = fresh; s.refreshes.refreshed(at: Clock.now()) }
                return s.current
            }
            if let old { try? Coordination.remove(old, in: repository) }
        }
    }
}

/// When a lock was last written, and the longest it went without a write before that.
struct RefreshRecord: Sendable, Equatable {
    private(set) var last: Double
    private(set) var longestGap = 0.0

    init(at time: Double) { last = time }

    mutating func refreshed(at time: Double) {
        longestGap = max(longestGap, time - last)
        last = time
    }

    /// The longest gap between writes, counting the one still open at `time`.
    func longestSilence(at time: Double) -> Double { max(longestGap, time - last) }
}

/// The locks this process holds, so that an interrupted command removes them on its way out
/// (`releaseAll`, from the signal handler's thread).
public enum ActiveLocks {
    private struct Entry: @unchecked Sendable { weak var lock: RepositoryLock? }
    private struct State {
        var locks: [ObjectIdentifier: Entry] = [:]
        /// Locks being written and not yet registered: their files may appear any moment.
        var writing = 0
    }
    private static let state = Mutex(State())

    static func beginWrite() { state.withLock { $0.writing += 1 } }
    static func endWrite() { state.withLock { $0.writing -= 1 } }
    static func add(_ lock: RepositoryLock) { state.withLock { $0.locks[ObjectIdentifier(lock)] = Entry(lock: lock) } }
    static func remove(_ lock: RepositoryLock) { _ = state.withLock { $0.locks.removeValue(forKey: ObjectIdentifier(lock)) } }

    /// Releases every lock this process holds, after waiting (up to `timeout` seconds) for
    /// locks being written, so that a lock whose file has just appeared is removed too.
    /// First, savers in progress index the packs they have uploaded (`ActiveSavers`).
    public static func releaseAll(timeout: Double = 5) {
        ActiveSavers.indexUploadedPacks()
        let deadline = Clock.now() + timeout
        while state.withLock({ $0.writing > 0 }) && Clock.now() < deadline { usleep(1000) }
        for entry in state.withLock({ Array($0.locks.values) }) { entry.lock?.release() }
    }
}
