import SnapCore
import SnapCrypto
import SnapStorage

/// Accumulates encrypted blobs into one pack, assembled in a staged file so that a pack
/// waiting for its turn to upload costs no process memory. Not thread-safe: one thread at a
/// time may use a writer (encryption needs the blob's final offset, which is its nonce), but
/// distinct writers are independent (each has its own salt, hence its own key).
final class PackWriter {
    let type: BlobType
    private let salt: [UInt8]
    private let cipher: AESGCM
    private let file: StagedFile
    /// The SHA-256 of the bytes written so far: the pack's name is known when it is
    /// finished, without reading the staged file back (on the writing thread, in parallel
    /// with the other writers, not on the one that uploads).
    private let hasher: SHA256Hasher
    /// Sealed bytes not yet in `file`: small blobs are written in batches, not one call each.
    private var pending: [UInt8] = []
    private(set) var entries: [PackEntry] = []
    /// The first failure of `add`: the pack may then lack a blob the caller was told to
    /// expect in it, so it is never finished (`finish` throws this), and the command that
    /// wrote it fails rather than save a snapshot that names the lost blob.
    private var failure: (any Error)?

    /// Bytes gathered before they are appended to the staged file.
    static let batchSize = 512 << 10

    /// - Parameter file: an empty staged file (from the backend that will store the pack).
    init(type: BlobType, keys: MasterKeys, file: StagedFile) throws {
        self.type = type
        salt = try SecureRandom.bytes(PackFormat.saltLength)
        cipher = try AESGCM(key: keys.subkey(salt: salt, purpose: .pack))
        self.file = file
        hasher = try SHA256Hasher()
    }

    var size: Int { file.size + pending.count }

    /// Encrypts `body` (the compressed or raw plaintext) at the end of the pack.
    func add(id: BlobID, body: UnsafeRawBufferPointer, rawLength: Int) throws {
        if let failure { throw failure }
        do { try append(id: id, body: body, rawLength: rawLength) } catch {
            failure = error
            throw error
        }
    }

    private func append(id: BlobID, body: UnsafeRawBufferPointer, rawLength: Int) throws {
        let offset = size
        try cipher.seal(body, nonce: PackFormat.nonce(header: false, offset: offset), appendingTo: &pending)
        entries.append(PackEntry(type: type, id: id, offset: UInt32(offset), length: UInt32(size - offset),
                                 rawLength: UInt32(rawLength)))
        if pending.count >= Self.batchSize { try flush() }
    }

    /// Calls `body` with each blob added so far, in order: its entry and its stored body
    /// (compressed or raw, as `add` got it), decrypted again from the staged file. For moving
    /// the blobs of a partly filled pack into another (`BlobSaver.finish`); this writer is
    /// then dropped, not finished.
    func forEachBody(_ body: (PackEntry, UnsafeRawBufferPointer) throws -> Void) throws {
        if let failure { throw failure }
        try flush()
        for entry in entries {
            let sealed = try file.read(Int(entry.offset)..<Int(entry.offset + entry.length))
            let opened = try cipher.open(sealed, nonce: PackFormat.nonce(header: false, offset: Int(entry.offset)))
            try opened.withUnsafeBytes { try body(entry, $0) }
        }
    }

    private func flush() throws {
        hasher.update(pending)
        try file.append(pending)
        // Keep a batch's worth of memory, not the largest blob's (up to the maximum chunk).
        if pending.capacity > 2 * Self.batchSize { pending = [] } else { pending.removeAll(keepingCapacity: true) }
    }

    /// Appends random padding, the encrypted header and the trailer, and returns the finished
    /// pack, named by the SHA-256 of its bytes.
    ///
    /// - Parameter padding: random bytes placed between the last blob and the header, so
    ///   that neither the pack's size nor its header length reveals the exact sum of the
    ///   blob lengths (FORMAT.md, "Threat model").
    func finish(padding: Int) throws -> (id: PackID, file: StagedFile, salt: [UInt8], entries: [PackEntry]) {
        if let failure { throw failure }
        if padding > 0 { pending.append(contentsOf: try SecureRandom.bytes(padding)) }
        let headerOffset = size
        let header = PackFormat.encodeHeader(entries, padding: 0)
        try header.withUnsafeBytes {
            try cipher.seal($0, nonce: PackFormat.nonce(header: true, offset: headerOffset), appendingTo: &pending)
        }
        let headerLength = UInt32(size - headerOffset)
        pending.append(contentsOf: salt)
        for shift in stride(from: 0, to: 32, by: 8) { pending.append(UInt8(truncatingIfNeeded: headerLength >> UInt32(shift))) }
        try flush()
        pending = []
        let digest = hasher.finalize()
        file.sha256 = digest
        let id = PackID(raw: digest.withUnsafeBytes { RawID(digest: $0) })
        return (id, file, salt, entries)
    }
}
