import SnapCore
import SnapCrypto

/// Accumulates encrypted blobs into one pack in memory. Not thread-safe: the caller
/// serialises `add` (encryption needs the blob's final offset, which is its nonce).
final class PackWriter {
    let type: BlobType
    private let salt: [UInt8]
    private let cipher: AESGCM
    private(set) var bytes: [UInt8] = []
    private(set) var entries: [PackEntry] = []

    /// - Parameter buffer: storage to build the pack in (emptied first), so that a saver
    ///   can reuse the memory of packs already uploaded.
    init(type: BlobType, keys: MasterKeys, buffer: [UInt8] = [], capacity: Int) throws {
        self.type = type
        salt = try SecureRandom.bytes(PackFormat.saltLength)
        cipher = try AESGCM(key: keys.subkey(salt: salt, purpose: .pack))
        bytes = buffer
        bytes.removeAll(keepingCapacity: true)
        bytes.reserveCapacity(capacity)
    }

    var size: Int { bytes.count }

    /// Encrypts `body` (the compressed or raw plaintext) at the end of the pack.
    func add(id: BlobID, body: UnsafeRawBufferPointer, rawLength: Int) throws {
        let offset = bytes.count
        try cipher.seal(body, nonce: PackFormat.nonce(header: false, offset: offset), appendingTo: &bytes)
        entries.append(PackEntry(type: type, id: id, offset: UInt32(offset), length: UInt32(bytes.count - offset),
                                 rawLength: UInt32(rawLength)))
    }

    /// Appends random padding, the encrypted header and the trailer, and returns the finished pack.
    ///
    /// - Parameter padding: random bytes placed between the last blob and the header, so
    ///   that neither the pack's size nor its header length reveals the exact sum of the
    ///   blob lengths (FORMAT.md, "Threat model").
    func finish(padding: Int) throws -> (id: PackID, bytes: [UInt8], salt: [UInt8], entries: [PackEntry]) {
        if padding > 0 { bytes.append(contentsOf: try SecureRandom.bytes(padding)) }
        let headerOffset = bytes.count
        let header = PackFormat.encodeHeader(entries, padding: 0)
        try header.withUnsafeBytes {
            try cipher.seal($0, nonce: PackFormat.nonce(header: true, offset: headerOffset), appendingTo: &bytes)
        }
        let headerLength = UInt32(bytes.count - headerOffset)
        bytes.append(contentsOf: salt)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: headerLength >> UInt32(shift))) }
        let id = PackID(raw: RawID(bytes: SHA256.hash(bytes))!)  // SHA-256 is 32 bytes
        // Hand the bytes over, so that the caller holds the only reference and can reuse them.
        var finished: [UInt8] = []
        swap(&finished, &bytes)
        return (id, finished, salt, entries)
    }
}
