import SnapCore
import SnapRepository
import SnapStorage

/// What `Coordination.unlock` removed.
public struct UnlockResult: Sendable, Encodable {
    /// Locks of processes that are gone (or, with `removeAll`, every lock).
    public var locksRemoved = 0
    /// Files that could not be read (only with `removeAll`).
    public var unreadableRemoved = 0
    /// Live locks left in place.
    public var locksKept = 0
    /// Each lock left in place: whose, and how long since it was refreshed by its own clock.
    public var kept: [KeptLock] = []

    public struct KeptLock: Sendable, Encodable {
        public let hostname: String
        public let pid: Int32
        public let kind: String
        public let minutesSinceRefresh: Int

        enum CodingKeys: String, CodingKey { case hostname, pid, kind, minutesSinceRefresh = "minutes_since_refresh" }
    }

    enum CodingKeys: String, CodingKey { case locksRemoved = "locks_removed", unreadableRemoved = "unreadable_removed", locksKept = "locks_kept", kept }
}

extension Coordination {
    /// Removes stale locks; with `removeAll`, every lock and every file in `locks/` that
    /// cannot be read, as `restic unlock --remove-all` does. Deletion marks that can be read
    /// are always kept. Removing a mark that cannot be read is safe for data: its packs stay
    /// indexed, and the next prune condemns them again if no snapshot uses them. Removing a
    /// live backup's lock is not: `removeAll` is for when no snap command runs anywhere.
    public static func unlock(_ repository: Repository, removeAll: Bool, hostname: String,
                              timing: LockTiming = LockTiming()) throws -> UnlockResult {
        var result = UnlockResult()
        let scan = try scan(repository, times: true)
        // No lock of its own to measure the storage's clock with: the writers' times decide.
        let now = WallClock.now
        for file in scan.files where file.record.kind != .deletion {
            if removeAll || !timing.isAlive(file, now: now, measured: false, localHost: hostname) {
                try remove(file.id, in: repository)
                result.locksRemoved += 1
            } else {
                result.locksKept += 1
                let minutes = max(0, Int((now.seconds - file.record.refreshedTime.seconds) / 60))
                result.kept.append(.init(hostname: file.record.hostname, pid: file.record.pid, kind: file.record.kind.rawValue,
                                         minutesSinceRefresh: minutes))
            }
        }
        if removeAll {
            for file in scan.unreadable {
                try repository.backend.delete(file.file)
                result.unreadableRemoved += 1
            }
        }
        return result
    }
}
