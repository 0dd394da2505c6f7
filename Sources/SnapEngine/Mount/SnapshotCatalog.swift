import SnapCore
import SnapRepository
import SnapStorage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Keeps a mount's list of snapshots fresh without remounting: the repository's snapshot
/// files are listed again when the list is older than the age a caller accepts, only the
/// new ones are read, and the index is reloaded when there are new ones (their trees and
/// blobs are in index files written before them). Thread-safe; one refresh at a time.
final class SnapshotCatalog: Sendable {
    private struct State {
        var listing = SnapshotListing.empty
        /// Monotonic seconds of the last listing; `-infinity` before the first.
        var listedAt = -Double.infinity
        var known: [SnapshotID: Snapshot] = [:]
    }

    private let repository: Repository
    private let filter: SnapshotFilter
    private let template: String
    private let warn: @Sendable (String) -> Void
    private let state = Mutex(State())
    /// Held while listing, so that concurrent lookups wait for one refresh instead of each making one.
    private let refreshing = Mutex(())

    init(repository: Repository, filter: SnapshotFilter, template: String, warn: @escaping @Sendable (String) -> Void) {
        self.repository = repository
        self.filter = filter
        self.template = template
        self.warn = warn
    }

    /// The snapshots, listed again first when the list is more than `maxAge` seconds old.
    func listing(maxAge: Double) -> SnapshotListing {
        let (listing, at) = state.withLock { ($0.listing, $0.listedAt) }
        if MonotonicClock.seconds - at <= maxAge { return listing }
        return refreshing.withLock { _ in
            let (listing, at) = state.withLock { ($0.listing, $0.listedAt) }
            if MonotonicClock.seconds - at <= maxAge { return listing }  // another thread just did
            return refresh()
        }
    }

    /// Lists the snapshot files, reads the new ones, reloads the index if there were new
    /// ones. A failure keeps the previous list (with a warning) until the next refresh.
    private func refresh() -> SnapshotListing {
        let (known, first) = state.withLock { ($0.known, $0.listedAt == -Double.infinity) }
        do {
            var current: [SnapshotID: Snapshot] = [:]
            var added = false
            for info in try repository.backend.list(.snapshots) {
                guard let id = SnapshotID(hex: info.file.name) else { continue }
                if let snapshot = known[id] { current[id] = snapshot; continue }
                do {
                    current[id] = try SnapshotStore.load(id, from: repository)
                    added = true
                } catch StorageError.notFound {
                    continue  // deleted since it was listed
                } catch {
                    warn("snapshot \(id.short) skipped: \(error)")
                }
            }
            if added && !first {
                try repository.loadIndex { id, error in self.warn("index \(id.short) skipped: \(error)") }
            }
            let records = current.map { SnapshotRecord(id: $0.key, snapshot: $0.value) }
                .filter { filter.matches($0.snapshot) }
                .sorted(by: SnapshotRecord.chronologically)
            let listing = SnapshotListing(records: records, template: template)
            state.withLock { s in
                s.listing = listing
                s.listedAt = MonotonicClock.seconds
                s.known = current
            }
            return listing
        } catch {
            warn("cannot list snapshots: \(error)")
            return state.withLock { s in
                s.listedAt = MonotonicClock.seconds
                return s.listing
            }
        }
    }
}

/// Seconds on a clock that only moves forward, for ages of cached lists.
enum MonotonicClock {
    static var seconds: Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
