import Glibc

/// A repository in a folder of the local file system.
///
/// Layout: `config`, `keys/ID`, `index/ID`, `snapshots/ID`, `locks/ID` and
/// `data/XX/ID`, where `XX` is the first two hex digits of the pack ID (256 folders keep
/// directories small). Writes go to a temporary file in the target folder, are fsynced,
/// renamed into place, and the folder is fsynced, so a crash leaves the old state or the
/// new file, never a partial one. Temporary files start with `.tmp-` and are never listed.
/// Packs are assembled in unnamed files in `data/` (`O_TMPFILE`), fsynced and linked into place.
public final class LocalBackend: Backend {
    public let root: String
    public var location: String { "local:\(root)" }
    /// Whether writes are fsynced; a cache of files checked on every read can do without.
    private let durable: Bool

    public init(root: String, durable: Bool = true) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
        self.durable = durable
    }

    /// The path of `file` under the root.
    public func path(of file: FileName) -> String {
        switch file.kind {
        case .config: return root + "/config"
        case .data: return "\(root)/data/\(file.name.prefix(2))/\(file.name)"
        default: return "\(root)/\(file.kind.rawValue)/\(file.name)"
        }
    }

    private func folder(of kind: FileKind) -> String { "\(root)/\(kind.rawValue)" }

    /// The folder part of `path` (all of it when it has no `/`).
    private func parent(of path: String) -> String { String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) }

    private func fail(_ operation: String, _ file: FileName?, _ code: Int32) -> StorageError {
        // Only a missing file is "not found"; a folder vanishing under a write is a failure of the write.
        if code == ENOENT, let file, operation != "write" && operation != "rename" && operation != "fsync" {
            return .notFound(file, location: location)
        }
        let detail = String(cString: strerror(code))
        // Interrupted or temporarily unavailable calls may pass; everything else on a local disk will not.
        if code == EINTR || code == EAGAIN || code == EIO {
            return .transient(operation: operation, file: file, location: location, detail: detail)
        }
        return .permanent(operation: operation, file: file, location: location, detail: detail)
    }

    public func write(_ file: FileName, data: [UInt8]) throws {
        try writeAtomically(file) { fd in try data.withUnsafeBytes { try writeAll(fd, $0, file) } }
    }

    /// A staged file in the data folder, so that `write(_:staged:)` links it into place.
    public func makeStagedFile() throws -> StagedFile {
        let dir = folder(of: .data)
        try makeDirectories(dir, file: nil)
        return try StagedFile.create(in: dir)
    }

    /// Links `staged` into place when this backend made it; copies it otherwise (a file made
    /// by another replica is never shared with it through a hard link).
    public func write(_ file: FileName, staged: StagedFile) throws {
        if staged.linkableIn == folder(of: .data), try link(staged, as: file) { return }
        if staged.namedAt?.hasPrefix(folder(of: .data) + "/") == true, try move(staged, as: file) { return }
        try writeAtomically(file) { fd in
            try staged.forEachPiece { try writeAll(fd, $0, file) }
        }
    }

    /// Gives the unnamed `staged` the name of `file`; `false` when it cannot be linked here
    /// (another file system, or the name is taken), so the caller copies instead.
    private func link(_ staged: StagedFile, as file: FileName) throws -> Bool {
        try place(staged, as: file) { target in
            guard linkat(AT_FDCWD, "/proc/self/fd/\(staged.descriptor)", AT_FDCWD, target, AT_SYMLINK_FOLLOW) == 0 else {
                if errno == EXDEV || errno == EEXIST || errno == ENOENT || errno == EPERM { return false }
                throw fail("link", file, errno)
            }
            return true
        }
    }

    /// Renames the named `staged` (a file system without `O_TMPFILE`) to `file`'s place;
    /// `false` when it cannot be, so the caller copies instead.
    private func move(_ staged: StagedFile, as file: FileName) throws -> Bool {
        try place(staged, as: file) { staged.rename(to: $0) }
    }

    /// Puts `staged` at `file`'s path with `placing` (given that path), durably when the
    /// backend is: the file synced before, its folder after. `false` when `placing` could not.
    private func place(_ staged: StagedFile, as file: FileName, by placing: (String) throws -> Bool) throws -> Bool {
        let target = path(of: file)
        let dir = parent(of: target)
        try makeDirectories(dir, file: file)
        if durable { try staged.sync() }
        guard try placing(target) else { return false }
        if durable { try syncDirectory(dir, file: file) }
        return true
    }

    /// Creates a temporary file beside `file`'s place, lets `fill` write it, makes it durable
    /// and renames it into place.
    private func writeAtomically(_ file: FileName, fill: (Int32) throws -> Void) throws {
        let target = path(of: file)
        let dir = parent(of: target)
        try makeDirectories(dir, file: file)
        let suffix = (0..<8).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.joined()
        let temp = "\(dir)/.tmp-\(file.name.prefix(16))-\(suffix)"
        InFlightFiles.add(temp)
        defer { InFlightFiles.remove(temp) }
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("write", file, errno) }
        var failure: Error?
        do { try fill(fd) } catch { failure = error }
        if failure == nil && durable && fsync(fd) != 0 { failure = fail("fsync", file, errno) }
        if close(fd) != 0 && failure == nil { failure = fail("close", file, errno) }
        if failure == nil && rename(temp, target) != 0 { failure = fail("rename", file, errno) }
        if let failure {
            unlink(temp)
            throw failure
        }
        if durable { try syncDirectory(dir, file: file) }
    }

    private func writeAll(_ fd: Int32, _ buf: UnsafeRawBufferPointer, _ file: FileName) throws {
        var done = 0
        while done < buf.count {
            let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)  // count > done, so non-nil
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("write", file, errno)
            }
            done += n
        }
    }

    public func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        // O_NONBLOCK: a fifo planted under a repository file's name must not block the open;
        // it changes nothing for a regular file, the only kind read here.
        let fd = open(path(of: file), O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw fail("read", file, errno) }
        defer { close(fd) }
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0 else { throw fail("stat", file, errno) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw StorageError.permanent(operation: "read", file: file, location: location, detail: "it is not a regular file")
        }
        let size = Int(st.st_size)
        let wanted = range ?? 0..<size
        guard wanted.lowerBound >= 0, wanted.upperBound <= size else {
            throw StorageError.invalidRange(file, range: wanted, size: size, location: location)
        }
        var out = [UInt8](repeating: 0, count: wanted.count)
        var failure: StorageError?
        out.withUnsafeMutableBytes { buf in
            var done = 0
            while done < buf.count {
                let n = pread(fd, buf.baseAddress! + done, buf.count - done, off_t(wanted.lowerBound + done))  // count > 0
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failure = n == 0
                        ? .transient(operation: "read", file: file, location: location, detail: "file shrank while reading")
                        : fail("read", file, errno)
                    return
                }
                done += n
            }
        }
        if let failure { throw failure }
        return out
    }

    public func stat(_ file: FileName) throws -> FileInfo {
        guard let st = statPath(path(of: file)) else { throw fail("stat", file, errno) }
        return FileInfo(file: file, size: Int(st.st_size), modified: Self.modified(st))
    }

    public func list(_ kind: FileKind) throws -> [FileInfo] {
        if kind == .config {
            return try exists(.config) ? [try stat(.config)] : []
        }
        var result: [FileInfo] = []
        let base = folder(of: kind)
        let folders = kind == .data
            ? try entries(of: base).filter { $0.count == 2 }.map { "\(base)/\($0)" }.filter { isFolder($0) }
            : [base]
        for dir in folders {
            for name in try entries(of: dir) where !name.hasPrefix(".") {
                guard let st = statPath("\(dir)/\(name)") else { continue }  // deleted since readdir
                guard (st.st_mode & S_IFMT) == S_IFREG else { continue }
                result.append(FileInfo(file: FileName(kind, name), size: Int(st.st_size), modified: Self.modified(st)))
            }
        }
        return result
    }

    public func delete(_ file: FileName) throws {
        guard unlink(path(of: file)) == 0 || errno == ENOENT else { throw fail("delete", file, errno) }
    }

    private static func modified(_ st: stat) -> Double { Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9 }

    /// Names in a folder; an absent folder has none.
    private func entries(of dir: String) throws -> [String] {
        guard let handle = opendir(dir) else {
            if errno == ENOENT { return [] }
            throw fail("list", nil, errno)
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private func makeDirectories(_ dir: String, file: FileName?) throws {
        if access(dir, F_OK) == 0 { return }
        let prefixes = dir.indices.filter { dir[$0] == "/" && $0 != dir.startIndex }.map { String(dir[..<$0]) } + [dir]
        for prefix in prefixes {
            if mkdir(prefix, 0o700) == 0 {
                // Make the new folder's entry durable, or a file in it could vanish on power loss.
                if durable { try syncDirectory(parent(of: prefix), file: file) }
            } else if errno != EEXIST {
                let code = errno
                // Not "not found": the file was never there to find; say which folder could not be made.
                var detail = "cannot create \(prefix): \(String(cString: strerror(code)))"
                if code == ENOENT, let dangling = prefixes.first(where: isDanglingLink) {
                    detail = "\(dangling) is a symbolic link to \(readLink(dangling) ?? "?"), which does not exist"
                }
                throw StorageError.permanent(operation: "create folder for", file: file, location: location, detail: detail)
            }
        }
    }

    /// Whether `path` is a symbolic link whose target does not exist.
    private func isDanglingLink(_ path: String) -> Bool {
        var st = Glibc.stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK && statPath(path) == nil
    }

    private func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        return n < 0 ? nil : String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func isFolder(_ path: String) -> Bool {
        guard let st = statPath(path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Makes a folder's entries durable (a rename, link or new folder in it). A failure is an
    /// error: a later step (an index file, a snapshot) must not come to depend on an entry that
    /// a power loss could take away. File systems that cannot sync a folder at all (`EINVAL`,
    /// `ENOTSUP`: some network and FUSE file systems) order nothing either way and are let be.
    private func syncDirectory(_ dir: String, file: FileName?) throws {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw syncFailure(dir, file, errno) }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP {
            throw syncFailure(dir, file, errno)
        }
    }

    private func syncFailure(_ dir: String, _ file: FileName?, _ code: Int32) -> StorageError {
        .permanent(operation: "fsync folder \(dir) after writing", file: file, location: location,
                   detail: "\(String(cString: strerror(code))); the file is in place but may not survive a power loss, so nothing that would depend on it was written")
    }
}

/// `stat(2)` of a path; `nil` with `errno` set on failure.
private func statPath(_ path: String) -> stat? {
    var st = stat()
    return stat(path, &st) == 0 ? st : nil
}
