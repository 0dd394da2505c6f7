import Glibc

/// A file assembled on local disk before it is stored (a pack being filled), so that its
/// bytes wait in the page cache rather than in the process's memory.
///
/// It has no name (`O_TMPFILE`), so a killed backup leaves nothing behind; on a file system
/// without `O_TMPFILE` (FUSE ones: exFAT, NTFS, FAT) it is a hidden `.tmp-staged-…` file
/// that a local backend in the same folder renames into place, removed when it is dropped
/// unused (and, like other `.tmp-` files, left only by a killed process). One thread
/// appends; once complete, any thread may read it, and a local backend in the same folder
/// gives it its name instead of copying it.
public final class StagedFile: @unchecked Sendable {
    /// The open file, for a backend that sends it itself; read it with `pread` only.
    public let descriptor: Int32
    /// The folder it was made in, when it can be linked into that file system
    /// (`O_TMPFILE`); `nil` for a file that can only be copied.
    let linkableIn: String?
    /// Its path, where the file system has no `O_TMPFILE` (`nil` once renamed into place).
    private(set) var namedAt: String?
    /// Where it lives, for messages.
    private let location: String
    /// The bytes appended so far.
    public private(set) var size = 0
    /// The SHA-256 of the complete file, when its maker computed it (a pack's is its
    /// name), so that a backend that needs it (S3 signs it) does not hash the file again.
    public var sha256: [UInt8]?

    private init(descriptor: Int32, linkableIn: String?, namedAt: String? = nil, location: String) {
        self.descriptor = descriptor
        self.linkableIn = linkableIn
        self.namedAt = namedAt
        self.location = location
        if let namedAt { InFlightFiles.add(namedAt) }
    }

    deinit {
        close(descriptor)
        if let namedAt {
            unlink(namedAt)
            InFlightFiles.remove(namedAt)
        }
    }

    /// Renames the named file to `target` (same file system); `false` when it has no name
    /// or the rename fails for a reason a copy may not share.
    func rename(to target: String) -> Bool {
        guard let namedAt, Glibc.rename(namedAt, target) == 0 else { return false }
        InFlightFiles.remove(namedAt)
        self.namedAt = nil
        return true
    }

    /// An empty file in `directory`; linkable there when the file system supports `O_TMPFILE`.
    public static func create(in directory: String) throws -> StagedFile {
        let location = directory
        let fd = open(directory, oTmpfile | O_RDWR | O_CLOEXEC, 0o600)
        if fd >= 0 { return StagedFile(descriptor: fd, linkableIn: directory, location: location) }
        // File systems without O_TMPFILE: a hidden named file, renamed into place when it is
        // stored in this folder's repository (copying it would need its size twice over on a
        // full USB disk, and some FUSE file systems cannot read an unlinked file back).
        guard errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL else { throw failure("create", location, errno) }
        let suffix = (0..<8).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.joined()
        let path = "\(directory)/.tmp-staged-\(suffix)"
        let named = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard named >= 0 else { throw failure("create", location, errno) }
        return StagedFile(descriptor: named, linkableIn: nil, namedAt: path, location: location)
    }

    /// An empty file in `$TMPDIR` (or `/tmp`), for backends that copy it elsewhere.
    public static func temporary() throws -> StagedFile {
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return try create(in: directory)
    }

    /// Appends `bytes` at the end.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            // count > done, so the base address is non-nil
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(size + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure("write", location, errno)
            }
            done += n
        }
        size += done
    }

    /// Appends `bytes` at the end.
    public func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }

    /// The bytes in `range`.
    public func read(_ range: Range<Int>) throws -> [UInt8] {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "read outside a staged file")
        var out = [UInt8](repeating: 0, count: range.count)
        try out.withUnsafeMutableBytes { try read(into: $0, at: range.lowerBound) }
        return out
    }

    /// All its bytes.
    public func readAll() throws -> [UInt8] { try read(0..<size) }

    /// Calls `body` with its bytes in order, `pieceSize` at a time, from one reused buffer.
    public func forEachPiece(pieceSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: min(pieceSize, max(size, 1)))
        var offset = 0
        while offset < size {
            let count = min(buffer.count, size - offset)
            try buffer.withUnsafeMutableBytes { raw in
                let piece = UnsafeMutableRawBufferPointer(rebasing: raw[..<count])
                try read(into: piece, at: offset)
                try body(UnsafeRawBufferPointer(piece))
            }
            offset += count
        }
    }

    /// Fills `buffer` from `offset`.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))  // count > done
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Self.failure("read", location, n == 0 ? EIO : errno) }
            done += n
        }
    }

    /// Makes the bytes durable before the file is given a name.
    func sync() throws {
        guard fsync(descriptor) == 0 else { throw Self.failure("fsync", location, errno) }
    }

    private static func failure(_ operation: String, _ location: String, _ code: Int32) -> StorageError {
        var detail = String(cString: strerror(code))
        // FUSE file systems that cannot read back a file open for writing (rclone's mount
        // without its file cache) refuse so; say what to use instead.
        if operation == "read" && (code == EPERM || code == EACCES) {
            detail += "; the file system may not let a file being written be read back (an rclone mount needs "
                + "--vfs-cache-mode writes; or use an rclone: location)"
        }
        return .permanent(operation: "\(operation) a staged file", file: nil, location: location, detail: detail)
    }
}

/// `O_TMPFILE`, which Glibc's Swift module leaves out (it needs `_GNU_SOURCE`):
/// `__O_TMPFILE` is 0o20000000 in Linux's generic fcntl flags, used by x86-64 and arm64.
private let oTmpfile: Int32 = 0o20000000 | O_DIRECTORY
