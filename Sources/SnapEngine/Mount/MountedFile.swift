import SnapCore
import SnapRepository
import Synchronization

/// A file opened through a mount: its blobs with the offset each starts at, and where the
/// last read ended, to tell a sequential reader (who gets the next blobs loaded ahead).
final class MountedFile: Sendable {
    /// The path as mounted, for warnings.
    let path: String
    let ids: [BlobID]
    /// `starts[i]` is where blob `i` begins; `starts[ids.count]` is the size.
    let starts: [UInt64]
    /// Why the file cannot be read, when its blobs are unknown to the index or do not add
    /// up to its size; reads then fail rather than give wrong bytes.
    let problem: String?
    private let lastEnd = Mutex<UInt64>(0)
    private let warned = Mutex(false)

    init(path: String, node: Node, index: BlobIndex) {
        self.path = path
        ids = node.content
        var starts: [UInt64] = [0], offset: UInt64 = 0, problem: String?
        for id in node.content {
            guard let location = index.lookup(id) else {
                problem = "blob \(id.short) is not in the index"
                break
            }
            offset += UInt64(location.entry.rawLength)
            starts.append(offset)
        }
        if problem == nil && offset != node.size {
            problem = "its blobs hold \(offset) bytes, its size is \(node.size)"
        }
        self.starts = problem == nil ? starts : [0]
        self.problem = problem
    }

    var size: UInt64 { starts[starts.count - 1] }

    /// The number of the blob holding byte `offset` (which must be below `size`).
    func blob(containing offset: UInt64) -> Int {
        var low = 0, high = ids.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// Records a read of `range`; true when it continues the previous one closely enough to
    /// count as sequential (FUSE may deliver a reader's requests slightly out of order).
    func noteRead(_ range: Range<UInt64>) -> Bool {
        lastEnd.withLock { end in
            let sequential = range.lowerBound == 0 || (range.lowerBound + (4 << 20) >= end && range.lowerBound <= end + (4 << 20))
            end = max(end, range.upperBound)
            return sequential
        }
    }

    /// True the first time only: one warning per open file.
    func shouldWarn() -> Bool { warned.withLock { w in defer { w = true }; return !w } }
}
