import Foundation
import SnapCore
import SnapCrypto
import SnapStorage

/// Which key file opened the repository at a location last, kept in the cache root so that
/// the next command opens the repository without listing `keys/` (restic's `--key-hint`,
/// remembered instead of typed), and copies of that key file and of `config`, so that it
/// opens without reading them either.
///
/// The hint is `key-hints/<SHA-256 of the location>` in the cache root, holding the key
/// file's name, which the repository shows anyone who can list it; `….key` beside it holds
/// the key file's bytes and `….config` the config's, each as the repository holds them
/// (the key file encrypted under the password, the config under the master keys). A copy
/// is used only when it is what it claims to be: the key copy's SHA-256 is its name, and
/// the config copy authenticates under the keys the password unlocks from it. A command
/// opened from the copies confirms the key file against the repository before it reads
/// anything else or writes anything but its lock (`KeyConfirmingBackend`).
///
/// A hint is only a first guess: a key file that is gone, damaged or not opened by the
/// password sends the command down the usual path, which reads every key file. Failing to
/// read or write the hint never makes a command fail. Snap before the copies reads the
/// name and ignores the copies.
struct KeyHint {
    let path: String

    init?(cacheRoot: String?, location: String) {
        guard let cacheRoot else { return nil }
        path = "\(cacheRoot)/key-hints/\(Hex.encode(SHA256.hash(Array(location.utf8))))"
    }

    /// The key file remembered, when the hint holds a key file's name.
    var remembered: FileName? {
        guard let bytes = Self.read(path, limit: 64), bytes.count == 64,
              let name = String(bytes: bytes, encoding: .ascii), KeyID(hex: name) != nil else { return nil }
        return FileName(.keys, name)
    }

    /// The copy of the remembered key file, when its bytes hash to `file`'s name.
    func keyCopy(of file: FileName) -> [UInt8]? {
        guard let bytes = Self.read(keyCopyPath, limit: Self.copyLimit) else { return nil }
        return SHA256.hash(bytes) == Hex.decode(file.name) ? bytes : nil
    }

    /// The copy of `config`, as the repository holds it (still encrypted; the caller authenticates it).
    var configCopy: [UInt8]? { Self.read(configCopyPath, limit: Self.copyLimit) }

    /// Remembers `file` unless the hint already names it, and keeps copies of the key
    /// file's and the config's bytes where given.
    func remember(_ file: FileName, key: [UInt8]? = nil, config: [UInt8]? = nil) {
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        // Private: the key copy lets whoever reads it try passwords, as `keys/` does.
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let isPrivate = (try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder)) != nil
        // The copies first: a hint naming a new key beside the old key's copy is harmless
        // (the copy does not hash to the name), and the name is what older snaps read.
        if let key, isPrivate { Self.write(key, to: keyCopyPath) }
        if let config { Self.write(config, to: configCopyPath) }
        if remembered != file { Self.write(Array(file.name.utf8), to: path) }
    }

    /// Marks the hint as in use, so that stale-cache clean-up (30 days unused) leaves it alone.
    func touch() {
        _ = utimensat(AT_FDCWD, path, nil, AT_SYMLINK_NOFOLLOW)
    }

    /// Forgets the key and the copies: the next command lists `keys/`.
    func forget() {
        for file in [path, keyCopyPath, configCopyPath] { try? FileManager.default.removeItem(atPath: file) }
    }

    private var keyCopyPath: String { path + ".key" }
    private var configCopyPath: String { path + ".config" }

    /// The most a copy may hold: a key file or config is well under 1 KiB.
    private static let copyLimit = 64 << 10

    /// The bytes of the regular file at `path` when it holds at most `limit`; `nil` for
    /// anything else (missing, a link, a FIFO, a device, too large), never waiting.
    private static func read(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= limit else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let complete = bytes.withUnsafeMutableBytes { buffer in
            var done = 0
            while done < buffer.count, let base = buffer.baseAddress {
                let n = pread(fd, base + done, buffer.count - done, off_t(done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                done += n
            }
            return true
        }
        return complete ? bytes : nil
    }

    private static func write(_ bytes: [UInt8], to path: String) {
        try? Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

extension Repository {
    /// Forgets which key file opened the repository at `location`, and the copies kept
    /// (`KeyHint`), when that is `key`: for `key remove` and `key passwd`, which remove it.
    public static func forgetRememberedKey(cacheRoot: String?, location: String, key: KeyID?) {
        guard let hint = KeyHint(cacheRoot: cacheRoot, location: location), let key,
              hint.remembered == FileName(.keys, key.hex) else { return }
        hint.forget()
    }
}
