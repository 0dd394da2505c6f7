import SnapChunker
import SnapCore
import SnapCrypto

/// The three secret keys of a repository, created at `init` and stored in key files.
public struct MasterKeys: Sendable, Equatable {
    /// Encrypts everything: per-file and per-pack subkeys are derived from it with HKDF.
    public let encryption: [UInt8]
    /// Keys the HMAC that names blobs.
    public let id: [UInt8]
    /// Seeds the chunker's gear table.
    public let chunker: [UInt8]

    public init(encryption: [UInt8], id: [UInt8], chunker: [UInt8]) {
        self.encryption = encryption; self.id = id; self.chunker = chunker
    }

    /// Three fresh random keys.
    public static func random() throws -> MasterKeys {
        MasterKeys(encryption: try SecureRandom.bytes(32), id: try SecureRandom.bytes(32), chunker: try SecureRandom.bytes(32))
    }

    /// The ID of a blob with this plaintext.
    public func blobID(of plaintext: UnsafeRawBufferPointer) -> BlobID {
        BlobID(raw: HMACSHA256.authenticate(plaintext, key: id).withUnsafeBytes { RawID(digest: $0) })
    }

    /// The ID of a blob with this plaintext.
    public func blobID(of plaintext: [UInt8]) -> BlobID {
        plaintext.withUnsafeBytes { blobID(of: $0) }
    }

    /// The gear table for this repository's chunker.
    public func gearTable() -> GearTable {
        GearTable(keyStream: HKDF.derive(key: chunker, salt: [], info: Array("snap gear table v1".utf8), length: 2048))
    }

    /// The AES-256-GCM key for the pack or file with this salt (FORMAT.md, "Subkeys").
    func subkey(salt: [UInt8], purpose: SubkeyPurpose) -> [UInt8] {
        HKDF.derive(key: encryption, salt: salt, info: Array(purpose.rawValue.utf8), length: 32)
    }
}

/// Computes blob IDs on one thread with one reused HMAC context: cheaper per blob than
/// `MasterKeys.blobID(of:)`, which sets the key up again for every blob.
///
/// Not thread-safe: one per worker.
public final class BlobIDHasher {
    private let mac: HMACSHA256Context

    public init(keys: MasterKeys) { mac = HMACSHA256Context(key: keys.id) }

    /// The ID of a blob with this plaintext.
    public func id(of plaintext: UnsafeRawBufferPointer) -> BlobID {
        withUnsafeTemporaryAllocation(byteCount: RawID.byteCount, alignment: 8) { digest in
            mac.authenticate(plaintext, into: digest)
            return BlobID(raw: RawID(digest: UnsafeRawBufferPointer(digest)))
        }
    }

    /// The ID of a blob with this plaintext.
    public func id(of plaintext: [UInt8]) -> BlobID { plaintext.withUnsafeBytes { id(of: $0) } }
}

/// The HKDF info strings, one per kind of encrypted object.
enum SubkeyPurpose: String {
    case pack = "snap pack v1"
    case file = "snap file v1"
}
