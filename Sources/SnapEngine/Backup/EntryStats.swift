#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import SnapCore

/// `lstat` of a folder's entries, and where asked their extended attributes, on several
/// threads, so that from a cold cache the walk waits for several inode reads at once
/// instead of one after the other.
///
/// The walk still takes the results in name order: only when they arrive changes. Threads
/// waiting on the disk cost little CPU; from a warm cache a folder costs one hand-over per
/// `slice` entries.
final class EntryStats: Sendable {
    /// Entries one job stats, one after the other; a folder smaller than two slices is
    /// statted on the calling thread.
    static let slice = 32

    private let pool: WorkerPool<Void>?

    /// - Parameter threads: 1 or fewer stats every entry on the calling thread.
    init(threads: Int) {
        pool = threads > 1 ? WorkerPool(threads: threads, capacity: threads * 4, label: "snap.stat") { () } : nil
    }

    /// What the walk learns of one entry before it looks at it.
    struct Examined: Sendable {
        let lstat: Result<stat, FileSystem.Failure>
        /// Read only where `wantsXattrs` said so; `nil` otherwise (the walk reads them if it
        /// needs them: an entry changed since the parent snapshot).
        let xattrs: Result<FileSystem.ExtendedAttributes, FileSystem.Failure>?
    }

    /// `lstat` of each of `names` in `directory` (the folder at `folder`), in their order, with
    /// the extended attributes of each entry for which `wantsXattrs` of its `lstat` is true.
    func examine(_ names: [[UInt8]], in directory: FileSystem.Directory, folder: [UInt8],
                 wantsXattrs: @escaping @Sendable (stat) -> Bool) -> [Examined] {
        let fd = directory.descriptor
        let one = { @Sendable (name: [UInt8]) -> Examined in
            let st = Result { () throws(FileSystem.Failure) in try FileSystem.lstat(name, in: fd) }
            guard case .success(let info) = st, wantsXattrs(info) else { return Examined(lstat: st, xattrs: nil) }
            let path = PathBytes.join(folder, name)
            return Examined(lstat: st, xattrs: Result { () throws(FileSystem.Failure) in try FileSystem.xattrs(name, in: fd, path: path) })
        }
        guard let pool, names.count >= 2 * Self.slice else { return names.map(one) }
        let results = Results(count: names.count)
        let done = DispatchGroup()
        for start in stride(from: 0, to: names.count, by: Self.slice) {
            let part = Array(names[start..<min(start + Self.slice, names.count)])
            done.enter()
            pool.submit { _ in
                for (i, name) in part.enumerated() { results.set(start + i, one(name)) }
                done.leave()
            }
        }
        done.wait()
        return results.values()
    }

    /// Lets the threads go once the walk is over.
    func close() { pool?.close() }

    /// One slot per entry, each written by exactly one job before `done` is left, and read
    /// only after `done.wait()`: the group orders the writes before the reads. Raw memory,
    /// not an array, so that jobs writing different slots do not claim the whole array.
    private final class Results: @unchecked Sendable {
        private let slots: UnsafeMutableBufferPointer<Examined>

        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: Examined(lstat: .failure(FileSystem.Failure(code: EIO)), xattrs: nil))
        }

        deinit {
            slots.deinitialize()
            slots.deallocate()
        }

        func set(_ index: Int, _ value: Examined) { slots[index] = value }

        func values() -> [Examined] { Array(slots) }
    }
}
