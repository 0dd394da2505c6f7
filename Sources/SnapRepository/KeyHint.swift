import Foundation
import SnapCore
import SnapCrypto
import SnapStorage

/// Which key file opened the repository at a location last, kept in the cache root so that
/// the next command reads that key file at once instead of listing `keys/` first: one
/// request fewer for every command against a remote repository (restic's `--key-hint`,
/// remembered instead of typed).
///
/// The hint is `key-hints/<SHA-256 of the location>` in the cache root, holding the key
/// file's name, which the repository shows anyone who can list it. A hint is only a first
/// guess: a key file that is gone, damaged or not opened by the password sends the command
/// down the usual path, which reads every key file. Failing to read or write the hint
/// never makes a command fail.
struct KeyHint {
    let path: String

    init?(cacheRoot: String?, location: String) {
        guard let cacheRoot else { return nil }
        path = "\(cacheRoot)/key-hints/\(Hex.encode(SHA256.hash(Array(location.utf8))))"
    }

    /// The key file remembered, when the hint holds a key file's name.
    var remembered: FileName? {
        guard let data = FileManager.default.contents(atPath: path), data.count == 64,
              let name = String(data: data, encoding: .ascii), KeyID(hex: name) != nil else { return nil }
        return FileName(.keys, name)
    }

    /// Remembers `file` unless the hint already names it.
    func remember(_ file: FileName) {
        guard remembered != file else { return }
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try? Data(file.name.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
