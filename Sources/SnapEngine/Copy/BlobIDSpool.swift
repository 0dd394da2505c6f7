import SnapCore
import SnapStorage

/// A first-in, first-out list of blob IDs kept in a nameless temporary file
/// (`StagedFile.temporary`), written in order and then read back in the same order, so that
/// a list as long as a snapshot's content costs a few kilobytes of memory.
///
/// `SnapshotCopier` keeps here the destination ID of every content blob its first pass
/// meets, in walk order, for its second pass to take in the same order.
final class BlobIDSpool {
    private let file: StagedFile
    private var pending: [RawID] = []
    private var buffer: [RawID] = []
    private var bufferPosition = 0
    private var readOffset = 0
    private static let chunk = 4096

    init() throws { file = try StagedFile.temporary() }

    /// The IDs written so far.
    private(set) var count = 0
    /// The IDs read so far.
    private(set) var taken = 0

    func append(_ id: BlobID) throws {
        pending.append(id.raw)
        count += 1
        if pending.count >= Self.chunk { try flush() }
    }

    /// The next `n` IDs, in the order they were appended.
    /// - Throws: `SpoolError.exhausted` when fewer than `n` remain.
    func next(_ n: Int) throws -> [BlobID] {
        guard taken + n <= count else { throw SpoolError.exhausted(wanted: n, left: count - taken) }
        try flush()
        var out: [BlobID] = []
        out.reserveCapacity(n)
        while out.count < n {
            if bufferPosition == buffer.count { try refill() }
            let k = min(n - out.count, buffer.count - bufferPosition)
            out.append(contentsOf: buffer[bufferPosition..<bufferPosition + k].lazy.map(BlobID.init(raw:)))
            bufferPosition += k
        }
        taken += n
        return out
    }

    private func flush() throws {
        guard !pending.isEmpty else { return }
        try pending.withUnsafeBytes { try file.append($0) }
        pending.removeAll(keepingCapacity: true)
    }

    private func refill() throws {
        let stride = MemoryLayout<RawID>.stride
        let items = min(Self.chunk, (file.size - readOffset) / stride)
        let bytes = try file.read(readOffset..<readOffset + items * stride)
        readOffset += items * stride
        buffer = bytes.withUnsafeBytes { raw in (0..<items).map { raw.loadUnaligned(fromByteOffset: $0 * stride, as: RawID.self) } }
        bufferPosition = 0
    }

    enum SpoolError: Error, CustomStringConvertible {
        case exhausted(wanted: Int, left: Int)
        case unused(Int)
        var description: String {
            switch self {
            case let .exhausted(wanted, left):
                return "copy's list of blob IDs ran out (\(left) left, \(wanted) wanted): the two walks of a snapshot differ"
            case let .unused(n):
                return "copy's list of blob IDs has \(n) left after the walk: the two walks of a snapshot differ"
            }
        }
    }
}
