#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import SnapCore

/// `lstat` of a folder's entries on several threads, so that from a cold cache the walk
/// waits for several inode reads at once instead of one after the other.
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

    /// `lstat` of each of `names` in `directory`, in their order.
    func lstat(_ names: [[UInt8]], in directory: FileSystem.Directory) -> [Result<stat, FileSystem.Failure>] {
        let fd = directory.descriptor
        guard let pool, names.count >= 2 * Self.slice else {
            return names.map { name in Result { () throws(FileSystem.Failure) in try FileSystem.lstat(name, in: fd) } }
        }
        let results = Results(count: names.count)
        let done = DispatchGroup()
        for start in stride(from: 0, to: names.count, by: Self.slice) {
            let part = Array(names[start..<min(start + Self.slice, names.count)])
            done.enter()
            pool.submit { _ in
                for (i, name) in part.enumerated() {
                    results.set(start + i, Result { () throws(FileSystem.Failure) in try FileSystem.lstat(name, in: fd) })
                }
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
        private let slots: UnsafeMutableBufferPointer<Result<stat, FileSystem.Failure>>

        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: .failure(FileSystem.Failure(code: EIO)))
        }

        deinit {
            slots.deinitialize()
            slots.deallocate()
        }

        func set(_ index: Int, _ value: Result<stat, FileSystem.Failure>) { slots[index] = value }

        func values() -> [Result<stat, FileSystem.Failure>] { Array(slots) }
    }
}
