import Foundation
import SnapCompression
import SnapCore
import SnapCrypto
import SnapStorage

/// A restic repository, opened read-only through any snap `Backend` (local, S3, SFTP, REST).
///
/// Nothing is ever written: no lock, no cache, no index. Opening refuses a repository that
/// restic holds an exclusive lock on. Every file and blob is authenticated (Poly1305-AES)
/// before it is decrypted and used, every blob's plaintext is checked against its SHA-256
/// name, and every file but `config` against its name; any mismatch throws
/// `ResticError.damaged`/`.damagedBlob` naming the file.
///
/// Read in restic's order (design.rst, "Read and Write Ordering"): snapshots are listed
/// before the index is loaded, so a snapshot being written meanwhile is either unseen or
/// complete. Safe to use from several threads once opened.
public final class ResticRepository: Sendable {
    public let backend: Backend
    public let config: ResticConfig
    let key: ResticCipherKey
    /// The snapshots, read when the repository was opened.
    public let snapshots: [(id: ResticSnapshotID, snapshot: ResticSnapshot)]
    /// Snapshot files that could not be read or decoded, left out of `snapshots` as restic
    /// leaves them out ("could not load snapshot …"): one damaged file must not keep every
    /// other snapshot from being listed or imported.
    public let unreadableSnapshots: [ResticError]
    public let index: ResticIndex

    /// Opens the repository on `backend` with `password`; a key file whose scrypt cost is
    /// above `keyLimits` is not tried (restic's own keys need 32–64 MiB).
    ///
    /// - Throws: `ResticError.noKeys` (not a restic repository), `.wrongPassword`,
    ///   `.exclusivelyLocked`, `.unsupportedVersion`, `.damaged` for any file that fails its
    ///   checks (but snapshot files: `unreadableSnapshots`), `.storage` when the backend fails.
    /// - Parameter keyHint: the start of a key file's ID (restic's `--key-hint`): those it
    ///   names are tried first.
    public init(backend: Backend, password: String, keyLimits: Scrypt.Limits = Scrypt.Limits(), keyHint: String? = nil) throws {
        self.backend = backend
        key = try Self.openKey(backend: backend, password: Array(password.utf8), limits: keyLimits, hint: keyHint?.lowercased() ?? "")
        let configJSON = try UnpackedFile.read(.config, from: backend, key: key)
        config = try UnpackedFile.decodeJSON(ResticConfig.self, configJSON, file: "config")
        guard config.version == 1 || config.version == 2 else { throw ResticError.unsupportedVersion(config.version) }
        try ResticLock.refuseExclusive(backend: backend, key: key)
        let files: [FileInfo]
        do { files = try backend.list(.snapshots) } catch { throw ResticError.storage(file: "snapshots/", detail: "\(error)") }
        var loaded: [(id: ResticSnapshotID, snapshot: ResticSnapshot)] = []
        var unreadable: [ResticError] = []
        for info in files {
            guard let id = ResticSnapshotID(hex: info.file.name) else { continue }
            do {
                let json = try UnpackedFile.read(info.file, from: backend, key: key)
                loaded.append((id, try UnpackedFile.decodeJSON(ResticSnapshot.self, json, file: info.file.description)))
            } catch let error as ResticError {
                unreadable.append(error)
            }
        }
        unreadableSnapshots = unreadable
        snapshots = loaded.sorted { a, b in
            let (ta, tb) = (a.snapshot.timestamp, b.snapshot.timestamp)
            return ta == tb ? a.id < b.id : (ta.map { t in tb.map { t < $0 } ?? false } ?? true)
        }
        index = try ResticIndex.load(from: backend, key: key)
    }

    /// The key files' master keys under `password`: the first key file that opens.
    private static func openKey(backend: Backend, password: [UInt8], limits: Scrypt.Limits, hint: String) throws -> ResticCipherKey {
        let files: [FileInfo]
        do { files = try backend.list(.keys) } catch { throw ResticError.storage(file: "keys/", detail: "\(error)") }
        guard !files.isEmpty else { throw ResticError.noKeys(location: backend.location) }
        var firstDamage: ResticError?
        var untried: [String] = []
        var snapKeys = 0
        let sorted = files.sorted { $0.file.name < $1.file.name }
        let ordered = hint.isEmpty ? sorted : sorted.filter { $0.file.name.hasPrefix(hint) } + sorted.filter { !$0.file.name.hasPrefix(hint) }
        for info in ordered {
            do {
                let bytes: [UInt8]
                do { bytes = try backend.read(info.file) } catch { throw ResticError.storage(file: info.file.description, detail: "\(error)") }
                if ResticKeyFile.isSnapKey(bytes) { snapKeys += 1 }
                let keyFile = try ResticKeyFile.parse(bytes, file: info.file.description)
                if let key = try keyFile.open(password: password, file: info.file.description, limits: limits) { return key }
            } catch let error as ResticError {
                if case let .keyAboveLimit(file, reason) = error { untried.append("\(file) \(reason)") }
                firstDamage = firstDamage ?? error
            }
        }
        if snapKeys == files.count { throw ResticError.snapRepository(location: backend.location) }
        // A damaged key file is worth naming when it is the only one; otherwise the password is wrong.
        if files.count == 1, let firstDamage { throw firstDamage }
        throw ResticError.wrongPassword(location: backend.location, keysTried: files.count, untried: untried)
    }

    /// The snapshot whose ID is `prefix` or starts with it.
    public func snapshot(matching prefix: String) throws -> (id: ResticSnapshotID, snapshot: ResticSnapshot) {
        let lowered = prefix.lowercased()
        let matches = snapshots.filter { $0.id.hex.hasPrefix(lowered) }
        guard let first = matches.first else { throw ResticError.snapshotNotFound(prefix) }
        guard matches.count == 1 else { throw ResticError.ambiguousSnapshot(prefix) }
        return first
    }

    /// Loads, authenticates, decompresses and checks the blob `id` of `type`.
    ///
    /// - Throws: `ResticError.blobNotIndexed`, `.damagedBlob` naming the pack, `.storage`.
    public func loadBlob(_ id: ResticBlobID, type: ResticBlobType) throws -> [UInt8] {
        guard let location = index.location(of: id), location.type == type else {
            throw ResticError.blobNotIndexed(blob: id.hex, type: type)
        }
        let file = FileName(.data, location.pack.hex)
        let range = location.offset..<(location.offset + location.length)
        let sealed: [UInt8]
        do {
            // A mirror may try another copy when this one fails authentication.
            sealed = try backend.read(file, range: range) { [key] bytes in (try? key.open(bytes)) != nil }
        } catch {
            throw ResticError.storage(file: file.description, detail: "\(error)")
        }
        return try Self.decodeBlob(sealed, id: id, location: location, key: key, file: file.description)
    }

    /// The largest uncompressed length allocated at once, as the index gives it: restic's
    /// chunks are at most 8 MiB; only a large tree (or a forged index entry) claims more.
    static let trustedLength = 64 << 20

    /// Authenticates, decrypts, decompresses and checks one sealed blob.
    static func decodeBlob(_ sealed: [UInt8], id: ResticBlobID, location: ResticBlobLocation, key: ResticCipherKey,
                           file: String, decompressor: ZstdDecompressor? = nil) throws -> [UInt8] {
        func damaged(_ reason: String) -> ResticError { .damagedBlob(blob: id.hex, file: file, reason: reason) }
        var plaintext: [UInt8]
        do { plaintext = try key.open(sealed) } catch { throw damaged("MAC does not match (modified bytes)") }
        if let length = location.uncompressedLength {
            do {
                let zstd = try decompressor ?? ZstdDecompressor()
                if length <= Self.trustedLength {
                    plaintext = try zstd.decompress(plaintext, length: length)
                } else {
                    // A length this large is allocated only as the frame really produces it:
                    // the index could claim gigabytes for a frame of a few bytes.
                    plaintext = try plaintext.withUnsafeBytes { try zstd.decompress($0, limit: length) }
                    guard plaintext.count == length else { throw damaged("zstd: decompressed to \(plaintext.count) bytes, expected \(length)") }
                }
            } catch let error as ResticError {
                throw error
            } catch {
                throw damaged("zstd: \(error)")
            }
        }
        guard SHA256.hash(plaintext) == id.raw.bytes else { throw damaged("its plaintext does not match its SHA-256 ID") }
        return plaintext
    }

    /// Loads the tree blob `id` and decodes its entries.
    public func loadTree(_ id: ResticBlobID) throws -> [ResticNode] {
        try Self.decodeTree(try loadBlob(id, type: .tree), id: id)
    }

    static func decodeTree(_ bytes: [UInt8], id: ResticBlobID) throws -> [ResticNode] {
        let tree = try ResticTreeJSON.parse(bytes, tree: id.hex)
        return try (tree.nodes ?? []).map { try ResticNode($0, tree: id.hex) }
    }

    /// Reads and authenticates the header of `pack`: the blobs it holds, in order.
    public func packHeader(_ pack: ResticPackID) throws -> ResticPackHeader {
        try ResticPackHeader.read(pack, from: backend, key: key)
    }

    /// A reader of a file's content (its data blobs in order), one blob at a time.
    public func contentReader(_ content: [ResticBlobID]) -> ResticContentReader {
        ResticContentReader(reader: ResticBlobReader(repository: self), content: content)
    }
}

/// Reads a file's content blob by blob, each authenticated and checked before its bytes
/// are handed out. Holds at most one blob in memory. Not thread-safe.
public final class ResticContentReader {
    private let load: (ResticBlobID) throws -> [UInt8]
    private let content: [ResticBlobID]
    private var next = 0
    private var buffer: [UInt8] = []
    private var position = 0
    /// Plaintext bytes handed out so far.
    public private(set) var bytesRead: UInt64 = 0

    init(reader: ResticBlobReader, content: [ResticBlobID]) {
        load = { try reader.loadBlob($0, type: .data) }
        self.content = content
    }

    /// A reader whose blobs, each checked, come from `load` in content order.
    init(content: [ResticBlobID], load: @escaping (ResticBlobID) throws -> [UInt8]) {
        self.load = load
        self.content = content
    }

    /// Copies up to `destination.count` bytes into `destination`; 0 at the end.
    public func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        guard destination.count > 0 else { return 0 }
        while position == buffer.count {
            guard next < content.count else { return 0 }
            buffer = try load(content[next])
            next += 1
            position = 0
        }
        let count = min(destination.count, buffer.count - position)
        buffer.withUnsafeBytes { source in
            destination.baseAddress!.copyMemory(from: source.baseAddress! + position, byteCount: count)  // non-nil: count > 0 here
        }
        position += count
        bytesRead += UInt64(count)
        return count
    }

    /// Reads everything that is left.
    public func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            out += chunk[0..<n]
        }
    }
}
