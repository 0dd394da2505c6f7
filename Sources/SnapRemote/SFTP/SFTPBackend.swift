import SnapHTTP
import SnapStorage

/// A repository in a folder of an SFTP server, through libcurl (libssh2).
///
/// Authentication is by key (ed25519 or ECDSA: libssh2 1.10 signs RSA keys with SHA-1,
/// which current OpenSSH refuses). The server's host key is always checked, against a
/// known_hosts file or a pinned SHA-256 fingerprint; without either the backend refuses
/// to connect. Uploads go to a temporary name and are renamed into place, so readers
/// never see a partial file.
public final class SFTPBackend: Backend {
    private let target: SFTPLocation
    private let ssh: SSHOptions
    private let session: CurlSession
    public let location: String

    public init(location: SFTPLocation, ssh: SSHOptions, session: CurlSession = CurlSession()) throws {
        guard ssh.hostKeySHA256 != nil || ssh.knownHostsPath != nil else {
            throw StorageError.permanent(operation: "connect", file: nil, location: "sftp:\(location.host)",
                                         detail: "no known_hosts file and no pinned host key: refusing to connect without checking the server's identity")
        }
        target = location
        self.ssh = ssh
        self.session = session
        self.location = "sftp://\(location.user.map { $0 + "@" } ?? "")\(location.host):\(location.port)\(location.path)"
    }

    private func relative(_ file: FileName) -> String {
        switch file.kind {
        case .config: return "config"
        case .data: return "data/\(file.name.prefix(2))/\(file.name)"
        default: return "\(file.kind.rawValue)/\(file.name)"
        }
    }

    private func transfer(_ relativePath: String) -> Transfer {
        var t = Transfer(url: target.url(relativePath))
        t.ssh = ssh
        return t
    }

    private func perform(_ t: Transfer, _ operation: String, _ file: FileName?) throws -> TransferResult {
        do {
            return try session.perform(t)
        } catch let e as TransferError {
            throw e.storageError(operation: operation, file: file, location: location)
        }
    }

    public func write(_ file: FileName, data: [UInt8]) throws {
        try write(file) { $0.body = data }
    }

    /// Uploads a staged file straight from disk.
    public func write(_ file: FileName, staged: StagedFile) throws {
        try write(file) { $0.bodyFile = FileBody(descriptor: staged.descriptor, count: staged.size) }
    }

    /// Uploads to a temporary name beside the target and renames it into place.
    private func write(_ file: FileName, body: (inout Transfer) -> Void) throws {
        let final = relative(file)
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let folder = final.split(separator: "/").dropLast().joined(separator: "/")
        let temp = (folder.isEmpty ? "" : folder + "/") + ".tmp-\(file.name.prefix(16))-\(suffix)"
        var t = transfer(temp)
        body(&t)
        t.createMissingFolders = true
        _ = try perform(t, "write", file)
        // SFTP v3 rename does not replace: an existing target already holds these bytes
        // (names are content hashes), so then the temporary copy is simply removed.
        var rename = transfer(folder.isEmpty ? "" : folder + "/")
        rename.headOnly = true
        rename.quote = ["rename \"\(target.commandPath(temp))\" \"\(target.commandPath(final))\""]
        do {
            _ = try perform(rename, "rename", file)
        } catch {
            if (try? stat(file)) != nil {
                try? remove(temp, file: file)
                return
            }
            try? remove(temp, file: file)
            throw error
        }
    }

    public func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        var t = transfer(relative(file))
        if let range {
            let size = try stat(file).size
            guard range.lowerBound >= 0, range.upperBound <= size else {
                throw StorageError.invalidRange(file, range: range, size: size, location: location)
            }
            if range.isEmpty { return [] }
            t.range = range
        }
        let r = try perform(t, "read", file)
        if let range, r.body.count != range.count {
            throw StorageError.transient(operation: "read", file: file, location: location,
                                         detail: "short read: \(r.body.count) of \(range.count) bytes")
        }
        return r.body
    }

    public func stat(_ file: FileName) throws -> FileInfo {
        var t = transfer(relative(file))
        t.headOnly = true
        let r = try perform(t, "stat", file)
        // libcurl reports an empty file's size as unknown (-1); a missing file fails above.
        return FileInfo(file: file, size: max(0, r.contentLength))
    }

    public func list(_ kind: FileKind) throws -> [FileInfo] {
        if kind == .config { return try exists(.config) ? [try stat(.config)] : [] }
        let folder = kind.rawValue
        if kind != .data {
            return try listing(folder).filter { !$0.name.hasPrefix(".") && !$0.isFolder }
                .map { FileInfo(file: FileName(kind, $0.name), size: $0.size) }
        }
        var result: [FileInfo] = []
        for sub in try listing(folder) where sub.isFolder && sub.name.count == 2 {
            for entry in try listing("\(folder)/\(sub.name)") where !entry.name.hasPrefix(".") && !entry.isFolder {
                result.append(FileInfo(file: FileName(.data, entry.name), size: entry.size))
            }
        }
        return result
    }

    public func delete(_ file: FileName) throws {
        do {
            try remove(relative(file), file: file)
        } catch {
            // SFTP's rm reports a missing file only as a generic quote error: a file that is
            // gone was removed (by us, on a retried request, or by another command).
            do { _ = try stat(file) } catch StorageError.notFound { return }
            throw error
        }
    }

    private func remove(_ relativePath: String, file: FileName) throws {
        var t = transfer("")
        t.headOnly = true
        t.quote = ["rm \"\(target.commandPath(relativePath))\""]
        _ = try perform(t, "delete", file)
    }

    /// Entries of a folder from its long listing; an absent folder has none.
    private func listing(_ folder: String) throws -> [SFTPListing.Entry] {
        let r: TransferResult
        do {
            r = try perform(transfer(folder + "/"), "list \(folder)", nil)
        } catch StorageError.permanent(_, _, _, let detail) where detail.contains("not found") || detail.contains("No such file") {
            return []
        }
        return SFTPListing.parse(String(decoding: r.body, as: UTF8.self))
    }
}

/// Parses the `ls -l`-style listing libcurl returns for an SFTP folder.
enum SFTPListing {
    struct Entry {
        let name: String
        let size: Int
        let isFolder: Bool
    }

    /// Lines look like `-rw-r--r--    1 user  group   1234 Nov 24 21:00 NAME`; snap's names
    /// contain no spaces, so the name is the last field and the size the fifth.
    static func parse(_ text: String) -> [Entry] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 9, let size = Int(fields[4]), let name = fields.last else { return nil }
            let n = String(name)
            if n == "." || n == ".." { return nil }
            return Entry(name: n, size: size, isFolder: fields[0].hasPrefix("d"))
        }
    }
}
