#if canImport(Glibc)
import Glibc
#endif
import SnapChunker

/// Reads a file through one reusable buffer and hands out its chunks in order.
///
/// The buffer holds two maximum-size chunks: the chunker always sees at least one maximum
/// chunk ahead (or the end of the file), and after moving the unchunked tail to the front
/// there is room for at least one more maximum chunk of reading.
final class ChunkReader {
    private let chunker: Chunker
    private let buffer: UnsafeMutableRawBufferPointer

    init(chunker: Chunker) {
        self.chunker = chunker
        buffer = .allocate(byteCount: chunker.parameters.maxSize * 2, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// After a large file, gives the buffer's pages beyond the first MiB back to the
    /// kernel, so that a reader that met one large file does not keep 2 × max chunk
    /// resident for the rest of the backup.
    private func release(touched: Int) {
        let keep = 1 << 20
        guard touched > keep, buffer.count > keep, let base = buffer.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let from = (Int(bitPattern: base) + keep + page - 1) / page * page
        let to = Int(bitPattern: base) + buffer.count
        guard to > from, let start = UnsafeMutableRawPointer(bitPattern: from) else { return }
        madvise(start, to - from, MADV_DONTNEED)
    }

    /// Calls `body` with each chunk of the open file `fd`; returns the number of bytes read.
    ///
    /// - Throws: `FileSystem.Failure` when a read fails; whatever `body` throws.
    func read(_ fd: Int32, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> UInt64 {
        let base = buffer.baseAddress!  // allocated with a non-zero size
        let maxSize = chunker.parameters.maxSize
        var start = 0, end = 0, total: UInt64 = 0
        var atEnd = false
        while true {
            if !atEnd && end - start < maxSize {
                if start > 0 {
                    memmove(base, base + start, end - start)
                    end -= start
                    start = 0
                }
                while !atEnd && end < buffer.count {
                    let n = Glibc.read(fd, base + end, buffer.count - end)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw FileSystem.Failure(code: errno)
                    }
                    if n == 0 { atEnd = true } else { end += n; total += UInt64(n) }
                }
            }
            if start == end {
                release(touched: end)
                return total
            }
            let length = chunker.cut(UnsafeRawBufferPointer(start: base + start, count: end - start), isFinal: atEnd)
            try body(UnsafeRawBufferPointer(start: base + start, count: length))
            start += length
        }
    }
}
