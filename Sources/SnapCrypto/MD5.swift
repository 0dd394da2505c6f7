import COpenSSL

/// MD5 (RFC 1321) through libcrypto's one-shot `EVP_Digest`.
///
/// Only for integrity headers that protocols demand, such as S3's `Content-MD5`, which
/// lets a server reject a body that changed in transit. MD5 is broken for collision
/// resistance: never use it to name or authenticate anything.
public enum MD5 {
    /// Length of a digest in bytes.
    public static let digestLength = 16

    /// The digest of `data` in one call.
    ///
    /// - Throws: `CryptoError.library` when libcrypto refuses MD5 (for example, a FIPS-only configuration).
    public static func hash(_ data: UnsafeRawBufferPointer) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: digestLength)
        var length: UInt32 = 0
        let ok = out.withUnsafeMutableBufferPointer { o in
            // EVP_Digest wants a readable pointer even for empty input.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { empty in
                let pointer = data.baseAddress ?? UnsafeRawPointer(empty.baseAddress!)  // capacity 1, so non-nil
                return EVP_Digest(pointer, data.count, o.baseAddress, &length, EVP_md5(), nil)
            }
        }
        guard ok == 1, length == UInt32(digestLength) else { throw libraryError("EVP_Digest(MD5)") }
        return out
    }

    /// The digest of `data` in one call.
    ///
    /// - Throws: `CryptoError.library` when libcrypto refuses MD5.
    public static func hash(_ data: [UInt8]) throws -> [UInt8] {
        try data.withUnsafeBytes { try hash($0) }
    }
}

/// An incremental MD5, for a body that is read in pieces (a staged pack uploaded from disk).
///
/// Not thread-safe: one hasher belongs to one upload.
public final class MD5Hasher {
    private let digest: DigestContext

    /// - Throws: `CryptoError.library` when libcrypto refuses MD5.
    public init() throws { digest = try DigestContext(EVP_md5(), name: "MD5") }

    /// Feeds more bytes.
    public func update(_ data: UnsafeRawBufferPointer) throws { try digest.update(data) }

    /// Returns the digest; the hasher must not be used afterwards.
    public func finalize() throws -> [UInt8] { try digest.finalize(length: MD5.digestLength) }
}
