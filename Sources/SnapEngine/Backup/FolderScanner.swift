#if canImport(Glibc)
import Glibc
#endif
import SnapCore
import Synchronization

/// A folder listed and examined ahead of the walk: its names in order, each entry's
/// `lstat` and, where asked, extended attributes (`EntryStats.examine`).
struct FolderScan: Sendable {
    let names: [[UInt8]]
    let entries: [EntryStats.Examined]
}

/// A subfolder handed to `FolderScanner`: scanned by one of its threads, or taken back by
/// the walk when no thread has started it yet, so that a walk faster than the scans (an
/// unchanged tree, a warm cache) never waits for a scan that has not begun.
final class FolderScanSlot: Sendable {
    let path: [UInt8]
    /// The folder as its parent's listing saw it (`FileSystem.Directory`).
    let listed: ListedEntry
    let wantsXattrs: @Sendable (stat) -> Bool
    private enum State { case queued, scanning, claimed }
    private let state = Mutex(State.queued)
    fileprivate let result = Pending<FolderScan?>()

    init(path: [UInt8], listed: ListedEntry, wantsXattrs: @escaping @Sendable (stat) -> Bool) {
        self.path = path
        self.listed = listed
        self.wantsXattrs = wantsXattrs
    }

    /// Whether a scanning thread has taken the slot up (for tests).
    var isStarted: Bool { state.withLock { $0 == .scanning } }

    /// For the scanning thread: whether the slot is still its to scan.
    fileprivate func start() -> Bool {
        state.withLock { s in
            guard s == .queued else { return false }
            s = .scanning
            return true
        }
    }

    /// For the walk: whether a thread has started the scan (then `result` comes); if not,
    /// no thread will.
    fileprivate func claim() -> Bool {
        state.withLock { s in
            guard s == .queued else { return true }
            s = .claimed
            return false
        }
    }
}

/// Lists and examines the next subfolders of the folders the walk is in, on threads of its
/// own, so that the walk finds them done when it descends.
///
/// The walk is one thread, depth first, in name order, and a folder's trees wait for it; on
/// a tree of many small folders (a Python environment, a source tree) its own system calls
/// were most of its cost: `open`, `getdents` and `close` of every folder, then `lstat` and
/// `llistxattr` of every entry, one after the other. Here they run on `threads` threads while
/// the walk settles the folders before; the walk keeps deciding everything (exclusions,
/// which entries to keep, the nodes), from the same facts, so the snapshot is the same.
///
/// Subfolders go to the threads `group` at a time (one hand-over each), `groupsAhead` groups
/// ahead of the walk in each folder. Memory: the entries of folders scanned but not yet
/// taken are bounded by `limit` (65,536 by default, some 20 MiB); a folder that would pass it
/// is left to the walk.
final class FolderScanner: Sendable {
    static let group = 4
    static let groupsAhead = 2

    private let pool: WorkerPool<Void>?
    private let stats: EntryStats
    /// Entries held by scans not yet taken, and the most there may be.
    private let held = Mutex(0)
    private let limit: Int

    /// - Parameter threads: 0 scans nothing ahead (every folder is listed by the walk).
    init(threads: Int, stats: EntryStats, limit: Int = 1 << 16) {
        self.stats = stats
        self.limit = limit
        pool = threads > 0 ? WorkerPool(threads: threads, capacity: threads * 16, label: "snap.scan") { () } : nil
    }

    /// Whether folders are scanned ahead at all.
    var isOn: Bool { pool != nil }

    /// Queues `slots` to be scanned one after the other by one thread.
    func scan(_ slots: [FolderScanSlot]) {
        guard let pool, !slots.isEmpty else { return }
        pool.submit { [self] _ in
            for slot in slots where slot.start() {
                slot.result.fulfil(Result { () throws(FileSystem.Failure) -> FolderScan? in try scan(slot) }.mapError { $0 as any Error })
            }
        }
    }

    /// The slot's folder as scanned; `nil` when the walk is to list it itself (no thread had
    /// started it, or it would have held too many entries).
    ///
    /// - Throws: `FileSystem.Failure` when the folder could not be listed.
    func take(_ slot: FolderScanSlot) throws -> FolderScan? {
        guard slot.claim(), let scan = try slot.result.wait() else { return nil }
        held.withLock { $0 -= scan.names.count }
        return scan
    }

    /// Entries held by scans not yet taken.
    var heldEntries: Int { held.withLock { $0 } }

    private func scan(_ slot: FolderScanSlot) throws(FileSystem.Failure) -> FolderScan? {
        let directory = try FileSystem.Directory(slot.path, listed: slot.listed)
        // A folder too large for the room left is not even read whole: the walk lists it.
        guard let names = try directory.names(atMost: limit - heldEntries) else { return nil }
        let admitted = held.withLock { count in
            guard count + names.count <= limit else { return false }
            count += names.count
            return true
        }
        guard admitted else { return nil }
        return FolderScan(names: names, entries: stats.examine(names, in: directory, folder: slot.path, wantsXattrs: slot.wantsXattrs))
    }

    /// Lets the threads go once the walk is over.
    func close() { pool?.close() }
}

/// One folder's subfolders that the walk will enter, in order, handed to a `FolderScanner`
/// `FolderScanner.group` at a time, `FolderScanner.groupsAhead` groups ahead of the walk.
struct FolderScanQueue {
    typealias Folder = (child: Int, path: [UInt8], listed: ListedEntry, wantsXattrs: @Sendable (stat) -> Bool)

    private let scanner: FolderScanner
    private let folders: [Folder]
    private var slots: [Int: FolderScanSlot] = [:]
    private var next = 0

    /// - Parameter folders: the subfolders, by their place among the folder's entries (`child`).
    init(scanner: FolderScanner, folders: [Folder]) {
        self.scanner = scanner
        self.folders = folders
        for g in 0..<FolderScanner.groupsAhead { submit(group: g) }
    }

    /// The slot of the folder's entry `child` when it is the next subfolder; `nil` for other
    /// entries. Hands the next group to the scanner as the walk reaches a group's first folder.
    mutating func slot(forChild child: Int) -> FolderScanSlot? {
        guard next < folders.count, folders[next].child == child else { return nil }
        if next % FolderScanner.group == 0 { submit(group: next / FolderScanner.group + FolderScanner.groupsAhead) }
        next += 1
        return slots.removeValue(forKey: child)
    }

    private mutating func submit(group g: Int) {
        let range = min(folders.count, g * FolderScanner.group)..<min(folders.count, (g + 1) * FolderScanner.group)
        let group = folders[range].map { FolderScanSlot(path: $0.path, listed: $0.listed, wantsXattrs: $0.wantsXattrs) }
        for (folder, slot) in zip(folders[range], group) { slots[folder.child] = slot }
        scanner.scan(group)
    }
}
