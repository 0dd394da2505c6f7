import SnapRepository
import Synchronization

/// The blob savers of the commands in progress, so that an interrupted backup or import
/// names the packs it has already uploaded in an index file before its lock is removed
/// (`ActiveLocks.releaseAll`). The next backup then reuses those packs, although it lists
/// the repository's packs only after a writer died without that chance
/// (`CoordinationScan.hasDeadWriter`).
enum ActiveSavers {
    private struct Entry: @unchecked Sendable { weak var saver: BlobSaver? }
    private static let savers = Mutex<[ObjectIdentifier: Entry]>([:])

    static func add(_ saver: BlobSaver) { savers.withLock { $0[ObjectIdentifier(saver)] = Entry(saver: saver) } }
    static func remove(_ saver: BlobSaver) { _ = savers.withLock { $0.removeValue(forKey: ObjectIdentifier(saver)) } }

    /// Writes an index file for each saver's uploaded packs that no index names yet. A
    /// failure leaves those packs to the next prune or `repair index` (nothing is lost: the
    /// command saved no snapshot that needs them).
    static func indexUploadedPacks() {
        for entry in savers.withLock({ Array($0.values) }) { try? entry.saver?.indexUploadedPacks() }
    }
}
