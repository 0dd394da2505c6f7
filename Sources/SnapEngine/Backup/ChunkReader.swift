#if canImport(Glibc)
import Glibc
#endif
import SnapChunker

/// Reads a file through one reusable buffer and hands out its chunks in order.
///
/// The buffer holds one maximum-size chunk and 256 KiB more: a chunk must lie whole in
/// it, and the chunker resumes where it stopped when more bytes come, so a partial chunk
/// is moved to the front and read on, never scanned twice.
final class ChunkReader {
    private let chunker: Chunker
    private let buffer: UnsafeMutableRawBufferPointer

    init(chunker: Chunker) {
        self.chunker = chunker
        buffer = .allocate(byteCount: chunker.parameters.maxSize + (256 << 10), alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// What a reader keeps resident between files: a file larger than this touches the
    /// rest of the buffer, which is given back to the kernel afterwards.
    static let residentBytes = 1 << 20

    /// After a large file, gives the buffer's pages beyond `residentBytes` back to the
    /// kernel, so that a reader that met one large file does not keep a maximum chunk
    /// resident for the rest of the backup.
    private func release(touched: Int) {
        let keep = Self.residentBytes
        guard touched > keep, buffer.count > keep, let base = buffer.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let from = (Int(bitPattern: base) + keep + page - 1) / page * page
        // Whole pages inside the buffer only: the page it ends in may hold another allocation.
        let to = (Int(bitPattern: base) + buffer.count) / page * page
        guard to > from, let start = UnsafeMutableRawPointer(bitPattern: from) else { return }
        madvise(start, to - from, MADV_DONTNEED)
    }

    /// Calls `body` with each chunk of the open file `fd`; returns the number of bytes read.
    ///
    /// - Throws: `FileSystem.Failure` when a read fails; whatever `body` throws.
    func read(_ fd: Int32, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> UInt64 {
        try read(from: { space in
            while true {
                let n = Glibc.read(fd, space.baseAddress, space.count)
                if n >= 0 { return n }
                if errno != EINTR { throw FileSystem.Failure(code: errno) }
            }
        }, body)
    }

    /// Calls `body` with each chunk of the bytes that `fill` hands out; returns their number.
    ///
    /// - Parameter fill: copies the next bytes of the content into the space it is given and
    ///   says how many (at least one while bytes remain, 0 at the end).
    /// - Throws: whatever `fill` or `body` throws.
    func read(from fill: (UnsafeMutableRawBufferPointer) throws -> Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> UInt64 {
        let base = buffer.baseAddress!  // allocated with a non-zero size
        var start = 0, end = 0, checked = 0, touched = 0, total: UInt64 = 0
        var atEnd = false
        defer { release(touched: touched) }
        while true {
            if start < end || atEnd {
                if start == end { return total }
                let unchunked = UnsafeRawBufferPointer(start: base + start, count: end - start)
                switch chunker.boundary(in: unchunked, isFinal: atEnd, checked: checked) {
                case .at(let length):
                    try body(UnsafeRawBufferPointer(start: base + start, count: length))
                    start += length
                    checked = 0
                    continue
                case .beyond(let scanned):
                    checked = scanned
                }
            }
            // The chunk goes on past the bytes read: make room behind it, then read on.
            if end == buffer.count {
                memmove(base, base + start, end - start)
                end -= start
                start = 0
            }
            let n = try fill(UnsafeMutableRawBufferPointer(start: base + end, count: buffer.count - end))
            if n == 0 { atEnd = true } else { end += n; total += UInt64(n); touched = max(touched, end) }
        }
    }
}
