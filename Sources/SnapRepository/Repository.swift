import SnapChunker
import SnapCore
import SnapCrypto
import SnapStorage
import Synchronization

/// An open, unlocked repository: its backend, keys, config and blob index.
///
/// Reading is thread-safe. Writing blobs goes through a `BlobSaver`.
public final class Repository: Sendable {
    public let backend: Backend
    public let keys: MasterKeys
    public let config: RepositoryConfig
    public let index = BlobIndex()
    /// Packs of trees larger than this are not kept whole in a metadata cache.
    static let largestCachedTreePack = 64 << 20
    /// The chunker with this repository's keyed gear table and size bounds.
    public let chunker: Chunker

    /// The key file that opened the repository (`nil` for one opened another way).
    public let keyID: KeyID?

    /// The folder of the blob index's table file (docs/cache.md), or `nil` to hold the index in memory.
    public let indexCacheFolder: String?

    /// Packs found missing that the index was reloaded for (`relocate`), so each costs one reload at most.
    let reloadedFor = Mutex<Set<PackID>>([])

    /// The metadata cache in `backend`'s stack, if any: `loadIndex` drops its copies of
    /// packs the index no longer names.
    let metadataCache: CachingBackend?

    init(backend: Backend, keys: MasterKeys, config: RepositoryConfig, keyID: KeyID? = nil, indexCacheFolder: String? = nil,
         metadataCache: CachingBackend? = nil) {
        self.backend = backend
        self.keys = keys
        self.config = config
        self.keyID = keyID
        self.indexCacheFolder = indexCacheFolder
        self.metadataCache = metadataCache
        chunker = Chunker(gear: keys.gearTable(), parameters: config.chunker)
    }

    /// Options chosen once, at `init`.
    public struct InitOptions: Sendable {
        public var chunker = ChunkerParameters.default
        public var compressionLevel = 3
        public var packSize = RepositoryConfig.defaultPackSize
        public var keyCost = KeyFile.defaultCost
        public init() {}
    }

    /// Creates a repository at an empty location: master keys, a key file for `password`, and `config`.
    ///
    /// `config` is written last, so an interrupted init leaves no repository and can be rerun:
    /// key files alone do not stop it. A location that holds snapshots, index files or packs
    /// without `config` is a repository that lost its config; a new config there would make
    /// its backups unreadable and lead `check` to advise repairs that delete its index, so
    /// init refuses it. With a `cacheRoot`, the new key file is remembered there (`KeyHint`),
    /// so that the first command opens the repository without listing `keys/`.
    ///
    /// - Throws: `RepositoryError.alreadyExists` when there is a `config`;
    ///   `.holdsRepositoryFiles` when `snapshots/`, `index/` or `data/` holds a file;
    ///   `.invalidParameter` for unusable options; storage errors.
    public static func initialize(backend: Backend, password: String, options: InitOptions = InitOptions(),
                                  hostname: String, username: String, now: String, cacheRoot: String? = nil) throws -> Repository {
        if try backend.exists(.config) { throw RepositoryError.alreadyExists(location: backend.location) }
        if let found = try folderHoldingBackups(at: backend) {
            throw RepositoryError.holdsRepositoryFiles(location: backend.location, found: found)
        }
        let id = Hex.encode(try SecureRandom.bytes(32))
        let config = RepositoryConfig(id: id, chunker: options.chunker,
                                      compression: .init(level: options.compressionLevel), packSize: options.packSize)
        if let problem = config.problem { throw RepositoryError.invalidParameter(problem) }
        let keys = try MasterKeys.random()
        let creator = Repository(backend: backend, keys: keys, config: config)
        let key = try creator.writeKey(password: password, cost: options.keyCost, hostname: hostname, username: username, now: now)
        let sealed = try EncryptedFile.seal(try JSONCoding.encode(config), kind: .config, keys: keys)
        do {
            try backend.write(.config, data: sealed)
        } catch {
            // The key opens master keys no config will ever use: left, a second init would
            // keep it beside its own, and the password would open the wrong keys.
            try? backend.delete(FileName(.keys, key.id.hex))
            throw error
        }
        KeyHint(cacheRoot: cacheRoot, location: backend.location)?.remember(FileName(.keys, key.id.hex), key: key.bytes, config: sealed)
        return Repository(backend: backend, keys: keys, config: config, keyID: key.id)
    }

    /// Writes a new key file holding the master keys under `password`.
    public func addKey(password: String, cost: Scrypt.Parameters = KeyFile.defaultCost,
                       hostname: String, username: String, now: String) throws -> KeyID {
        try writeKey(password: password, cost: cost, hostname: hostname, username: username, now: now).id
    }

    /// Writes a new key file holding the master keys under `password`; returns its ID and bytes.
    func writeKey(password: String, cost: Scrypt.Parameters, hostname: String, username: String,
                  now: String) throws -> (id: KeyID, bytes: [UInt8]) {
        let file = try KeyFile.create(keys: keys, password: password, cost: cost, hostname: hostname, username: username, created: now)
        let bytes = try file.encoded()
        let id = KeyID(raw: SHA256.hash(bytes).withUnsafeBytes { RawID(digest: $0) })
        try backend.write(FileName(.keys, id.hex), data: bytes)
        return (id, bytes)
    }

    // MARK: Encrypted files (index, snapshots)

    /// Encrypts `plaintext`, names it by the SHA-256 of the result, and writes it under `kind`.
    ///
    /// - Parameter withdrawingOnFailure: when the write fails, delete what it may have left
    ///   (on the replicas of a mirror that took it, say): for locks, which must not outlive
    ///   a command that could not take them.
    public func saveFile(_ kind: FileKind, plaintext: [UInt8], withdrawingOnFailure: Bool = false) throws -> RawID {
        let bytes = try EncryptedFile.seal(plaintext, kind: kind, keys: keys)
        let id = SHA256.hash(bytes).withUnsafeBytes { RawID(digest: $0) }
        let file = FileName(kind, id.hex)
        do {
            if Self.isMetadata(kind) { try backend.writeMetadata(file, data: bytes) } else { try backend.write(file, data: bytes) }
        } catch {
            if withdrawingOnFailure { try? backend.delete(file) }
            throw error
        }
        return id
    }

    /// Reads an encrypted file, checks that its bytes match its name, and decrypts it.
    public func loadFile(_ file: FileName) throws -> [UInt8] {
        let expected = Hex.decode(file.name)
        let bytes = Self.isMetadata(file.kind)
            ? try backend.readMetadata(file) { SHA256.hash($0) == expected }
            : try backend.read(file)
        guard SHA256.hash(bytes) == expected else {
            throw RepositoryError.damaged(file: file.description, reason: "content does not match its name")
        }
        return try EncryptedFile.open(bytes, file: file, keys: keys)
    }

    /// Index files and snapshots are read again by later commands; locks are not.
    private static func isMetadata(_ kind: FileKind) -> Bool { kind == .index || kind == .snapshots }

    /// The decrypted `config` file as stored (for `snap cat config`).
    public func loadConfigPlaintext() throws -> [UInt8] {
        try EncryptedFile.open(try backend.read(.config, range: nil, isValid: { [keys] in (try? EncryptedFile.open($0, file: .config, keys: keys)) != nil }),
                               file: .config, keys: keys)
    }

    // MARK: Index

    /// Reads one index file.
    public func loadIndexFile(_ id: IndexID) throws -> IndexFile {
        let file = FileName(.index, id.hex)
        do {
            return try IndexFile.decode(try loadFile(file))
        } catch let e as DecodingFailure {
            throw RepositoryError.damaged(file: file.description, reason: "\(e)")
        }
    }

    /// Finds packs that no index names (left by an interrupted backup), reads their
    /// headers, and writes an index file for them so their blobs are reused.
    ///
    /// - Returns: the number of packs indexed. Packs whose headers cannot be read are skipped.
    ///
    /// - Parameter excluding: packs never to index (those a prune has condemned).
    @discardableResult
    public func indexUnindexedPacks(excluding: Set<PackID> = []) throws -> Int {
        let known = Set(index.packs.map(\.id)).union(excluding)
        var found: [IndexedPack] = []
        for info in try backend.list(.data) {
            guard let id = PackID(hex: info.file.name), !known.contains(id) else { continue }
            guard let header = try? PackFormat.readHeader(of: id, size: info.size, from: backend, keys: keys) else { continue }
            found.append(IndexedPack(id: id, salt: header.salt, size: info.size, entries: header.entries))
        }
        guard !found.isEmpty else { return 0 }
        _ = try saveFile(.index, plaintext: IndexFile(packs: found).encoded())
        for pack in found { index.add(pack) }
        return found.count
    }

    // MARK: Blobs

    /// Downloads a whole pack and verifies everything in it: its bytes against its name
    /// (SHA-256), its header, and every blob (authentication, decompression, blob ID).
    ///
    /// The pack is read in pieces of about `pieceSize` bytes, cut at blob ends, so that
    /// one verification holds a piece and a blob rather than the whole pack.
    ///
    /// - Parameter size: the pack's size, when the caller has listed it.
    /// - Returns: the pack's salt and entries, as its authenticated header and trailer give them.
    /// - Throws: `RepositoryError.damaged` or `.blobDamaged` naming the first problem; a pack
    ///   whose bytes do not match its name is reported as that, whatever else is wrong.
    public func verifyPack(_ id: PackID, size: Int? = nil, pieceSize: Int = 2 << 20) throws -> (salt: [UInt8], entries: [PackEntry]) {
        let file = FileName(.data, id.hex)
        let size = try size ?? backend.stat(file).size
        let header: (salt: [UInt8], entries: [PackEntry])
        do {
            header = try PackFormat.readHeader(of: id, size: size, from: backend, keys: keys)
        } catch is RepositoryError {
            return try verifyWholePack(id)  // which says whether the bytes match the name
        }
        // Packs list their blobs in order (snap writes them so): then no sorted copy is made.
        let inOrder = zip(header.entries, header.entries.dropFirst()).allSatisfy { $0.offset < $1.offset }
        let entries = inOrder ? header.entries : header.entries.sorted { $0.offset < $1.offset }
        let hasher = try SHA256Hasher()
        let decoder = try BlobDecoder(keys: keys)
        var firstProblem: Error?
        var position = 0, next = 0
        while position < size {
            // A piece ends at `pieceSize` or at the end of the last blob that starts before it.
            var end = min(size, position + max(1, pieceSize))
            let first = next
            while next < entries.count, Int(entries[next].offset) < end {
                end = max(end, Int(entries[next].offset) + Int(entries[next].length))
                next += 1
            }
            let piece = try backend.read(file, range: position..<end)
            guard piece.count == end - position else { throw RepositoryError.damaged(file: file.description, reason: "shorter than listed") }
            hasher.update(piece)
            piece.withUnsafeBytes { all in
                for e in entries[first..<next] where firstProblem == nil {
                    let from = Int(e.offset) - position
                    do {
                        _ = try decoder.decode(UnsafeRawBufferPointer(rebasing: all[from..<(from + Int(e.length))]), entry: e,
                                               pack: id, salt: header.salt)
                    } catch {
                        firstProblem = error
                    }
                }
            }
            position = end
        }
        guard hasher.finalize() == id.raw.bytes else {
            throw RepositoryError.damaged(file: file.description, reason: "content does not match its name")
        }
        if let firstProblem { throw firstProblem }
        return header
    }

    /// `verifyPack` on the pack read whole.
    private func verifyWholePack(_ id: PackID) throws -> (salt: [UInt8], entries: [PackEntry]) {
        let file = FileName(.data, id.hex)
        let bytes = try backend.read(file)
        guard SHA256.hash(bytes) == id.raw.bytes else {
            throw RepositoryError.damaged(file: file.description, reason: "content does not match its name")
        }
        let header = try PackFormat.readHeader(of: id, size: bytes.count, keys: keys) { Array(bytes[$0]) }
        let decoder = try BlobDecoder(keys: keys)
        try bytes.withUnsafeBytes { all in
            for e in header.entries {
                let range = Int(e.offset)..<(Int(e.offset) + Int(e.length))
                _ = try decoder.decode(UnsafeRawBufferPointer(rebasing: all[range]), entry: e, pack: id, salt: header.salt)
            }
        }
        return header
    }

    private func loadBlobOnce(_ id: BlobID, decoder: BlobDecoder?) throws -> [UInt8] {
        guard let location = index.lookup(id) else { throw RepositoryError.blobNotFound(id) }
        let e = location.entry
        let decoder = try decoder ?? BlobDecoder(keys: keys)
        func decode(_ sealed: [UInt8]) throws -> [UInt8] {
            try sealed.withUnsafeBytes { try decoder.decode($0, entry: e, pack: location.pack, salt: location.salt) }
        }
        let file = FileName(.data, location.pack.hex)
        let range = Int(e.offset)..<Int(e.offset) + Int(e.length)
        var plaintext: [UInt8]?
        let authenticates = { (sealed: [UInt8]) in
            plaintext = try? decode(sealed)
            return plaintext != nil
        }
        // Trees are read in bursts (one per directory): a metadata cache keeps their packs.
        if e.type == .tree, let size = index.packSize(location.pack), size <= Self.largestCachedTreePack {
            let matchesName = { (bytes: [UInt8]) in SHA256.hash(bytes) == location.pack.raw.bytes }
            let sealed = try backend.readMetadata(file, range: range, isValid: matchesName, rangeIsValid: authenticates)
            return try plaintext ?? decode(sealed)
        }
        // A mirror tries its next replica when this copy does not authenticate.
        let sealed = try backend.read(file, range: range, isValid: authenticates)
        return try plaintext ?? decode(sealed)
    }

    /// Reads, authenticates and decodes a blob; when its pack is gone because a prune
    /// repacked it meanwhile, once more from its new pack (`relocate`).
    public func loadBlob(_ id: BlobID, decoder: BlobDecoder? = nil) throws -> [UInt8] {
        do {
            return try loadBlobOnce(id, decoder: decoder)
        } catch let error as StorageError {
            guard case let .notFound(file, _) = error, file.kind == .data, let pack = PackID(hex: file.name),
                  relocate(id, missingFrom: pack) != nil else { throw error }
            return try loadBlobOnce(id, decoder: decoder)
        }
    }
}
