#if canImport(Glibc)
import Glibc
#endif

extension FileReader {
    /// A batch's small files, opened before the first is read, with the kernel asked for
    /// each one's data (`posix_fadvise(WILLNEED)`, which starts the reads and returns).
    ///
    /// From a cold cache a small file costs one disk request; a thread that opened and
    /// read its files one at a time kept one request in flight, so on two cores the disk
    /// saw about three at once. Asking for a batch at once keeps up to `depth` requests per
    /// thread in flight and lets the I/O scheduler merge neighbours. From a warm cache it
    /// costs one `posix_fadvise` per small file. The files are still read in order, and
    /// exactly as before: only when their data arrives changes.
    struct Prefetch {
        /// Files larger than this are opened when their turn comes: the kernel's own
        /// readahead serves them, and asking for them ahead would hold their pages.
        static let largestFile: UInt64 = 256 << 10
        /// Files one thread opens ahead at most: the archiver's batch length.
        static let deepest = 16

        private let paths: [[UInt8]]
        private var opened: [Result<Int32, FileSystem.Failure>?]

        /// Opens up to `limit` of `files`' small files and asks for their data; none when
        /// the batch holds a single file, which gains nothing from it.
        init(_ files: [File], limit: Int) {
            paths = files.map(\.path)
            opened = Array(repeating: nil, count: files.count)
            guard files.count > 1 else { return }
            var left = limit
            for (i, file) in files.enumerated() where left > 0 && file.node.size <= Self.largestFile {
                let result = Self.open(file.path)
                if case .success(let fd) = result { _ = posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED) }
                opened[i] = result
                left -= 1
            }
        }

        /// File `index` of the batch, opened now unless it was opened ahead; the caller
        /// closes it.
        mutating func take(_ index: Int) -> Result<Int32, FileSystem.Failure> {
            if let result = opened[index] {
                opened[index] = nil
                return result
            }
            return Self.open(paths[index])
        }

        /// Closes the files opened ahead and not taken (a batch cut short by an error).
        mutating func closeAll() {
            for case .success(let fd)? in opened { Glibc.close(fd) }
            opened = []
        }

        /// How many files each of `threads` threads may open ahead: `deepest`, unless the
        /// descriptor limit leaves fewer (a quarter of it is shared among the threads; the
        /// rest stays for packs, folders and the caller).
        static func depth(threads: Int) -> Int {
            var limit = rlimit()
            guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
            let soft = UInt64(limit.rlim_cur)  // RLIM_INFINITY is the largest value
            let each = Int(min(soft / 4, UInt64(Int32.max))) / max(1, threads)
            return each < 2 ? 0 : min(deepest, each)
        }

        private static func open(_ path: [UInt8]) -> Result<Int32, FileSystem.Failure> {
            let fd = PathBytes.withCString(path) { Glibc.open($0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK) }
            return fd >= 0 ? .success(fd) : .failure(FileSystem.Failure(code: errno))
        }
    }
}
