import COpenSSL

/// SHA-256 (FIPS 180-4) through libcrypto.
public enum SHA256 {
    /// Length of a digest in bytes.
    public static let digestLength = 32

    /// The digest of `data` in one call.
    public static func hash(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: digestLength)
        out.withUnsafeMutableBufferPointer { o in
            let result = COpenSSL.SHA256(data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count, o.baseAddress)
            precondition(result != nil, "libcrypto SHA-256 failed")  // a wrong digest would silently misname files
        }
        return out
    }

    /// The digest of `data` in one call.
    public static func hash(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { hash($0) }
    }
}

/// An incremental SHA-256 computation, for data that arrives in pieces (a pack being written).
///
/// Not thread-safe: one hasher belongs to one writer.
public final class SHA256Hasher {
    private let digest: DigestContext

    public init() throws { digest = try DigestContext(EVP_sha256(), name: "SHA-256") }

    /// Feeds more bytes.
    public func update(_ data: UnsafeRawBufferPointer) {
        // A wrong digest would silently misname files.
        do { try digest.update(data) } catch { preconditionFailure("libcrypto SHA-256 update failed") }
    }

    /// Feeds more bytes.
    public func update(_ data: [UInt8]) {
        data.withUnsafeBytes { update($0) }
    }

    /// Returns the digest; the hasher must not be used afterwards.
    public func finalize() -> [UInt8] {
        do { return try digest.finalize(length: SHA256.digestLength) } catch { preconditionFailure("libcrypto SHA-256 final failed") }
    }
}
