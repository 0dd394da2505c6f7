#if canImport(Glibc)
import Glibc
#endif
import SnapChunker

/// One segment of an open file in a buffer, with the bytes after it that its last chunk
/// needs, read as the chunker asks for them: `next` is `SegmentedChunking`'s function for
/// the chunks that start in the segment.
///
/// The segment is read whole at once. Beyond its end a chunk that starts inside it can
/// reach up to a maximum chunk, but usually ends within a few hundred KiB: those bytes are
/// read a step at a time, so the seams cost little reading twice.
final class SegmentWindow {
    private let fd: Int32
    private let chunker: Chunker
    private let buffer: UnsafeMutableRawBufferPointer
    /// The file offset of `buffer[0]`: where the segment starts.
    let start: Int
    /// Where the segment ends: chunks that start before it are the segment's.
    let end: Int
    /// How far the buffer may be read: a maximum chunk past `end`, or the file's end.
    private let limit: Int
    /// Where the file ends: its size when the segment was planned, or earlier if a read
    /// found its end sooner (it shrank while being read).
    private(set) var streamEnd: Int
    /// Bytes in the buffer.
    private var filled = 0

    /// Bytes read per step past the segment's end.
    private static let step = 256 << 10

    /// Reads the segment `start..<end` of `fd`, a file of `size` bytes.
    ///
    /// - Parameter buffer: at least `end - start + chunker.parameters.maxSize` bytes.
    /// - Throws: `FileSystem.Failure` when a read fails.
    init(fd: Int32, size: Int, start: Int, end: Int, chunker: Chunker, buffer: UnsafeMutableRawBufferPointer) throws {
        self.fd = fd; self.chunker = chunker; self.buffer = buffer
        self.start = start; self.end = end
        limit = min(size, end + chunker.parameters.maxSize)
        precondition(buffer.count >= limit - start, "segment buffer smaller than a segment and a maximum chunk")
        streamEnd = size
        try read(upTo: end)
    }

    /// The end of the chunk that starts at file offset `p`, for `start <= p < end`.
    ///
    /// - Throws: `FileSystem.Failure` when a read fails.
    func next(_ p: Int) throws -> Int {
        var checked = 0
        while true {
            let unchunked = UnsafeRawBufferPointer(rebasing: buffer[(p - start)..<filled])
            switch chunker.boundary(in: unchunked, isFinal: start + filled >= streamEnd, checked: checked) {
            case .at(let length):
                return p + length
            case .beyond(let scanned):
                checked = scanned
                // Undecided means fewer than a maximum chunk of bytes after p, and p < end:
                // there is more below `limit` to read.
                try read(upTo: min(limit, start + filled + Self.step))
            }
        }
    }

    /// The bytes of the file from offset `from` to offset `to`, both inside the window.
    func bytes(_ from: Int, _ to: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[(from - start)..<(to - start)])
    }

    /// Reads on until the buffer holds the file up to offset `target`, or the file ends.
    private func read(upTo target: Int) throws {
        precondition(target > start + filled || start + filled >= streamEnd, "nothing left to read in a segment window")
        guard let base = buffer.baseAddress else { return }
        while start + filled < min(target, streamEnd) {
            let want = min(target, streamEnd) - (start + filled)
            let n = pread(fd, base + filled, want, off_t(start + filled))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystem.Failure(code: errno)
            }
            if n == 0 {
                // The file is shorter than it was: it ends here for this backup.
                streamEnd = start + filled
                return
            }
            filled += n
        }
    }
}
