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
    private let context: OpaquePointer

    public init() throws {
        guard let ctx = EVP_MD_CTX_new() else { throw libraryError("EVP_MD_CTX_new") }
        guard EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else {
            EVP_MD_CTX_free(ctx)
            throw libraryError("EVP_DigestInit_ex")
        }
        context = ctx
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds more bytes.
    public func update(_ data: UnsafeRawBufferPointer) {
        guard data.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, data.baseAddress, data.count) == 1, "libcrypto SHA-256 update failed")
    }

    /// Feeds more bytes.
    public func update(_ data: [UInt8]) {
        data.withUnsafeBytes { update($0) }
    }

    /// Returns the digest; the hasher must not be used afterwards.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: SHA256.digestLength)
        var length: UInt32 = 0
        let ok = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        precondition(ok == 1 && length == 32, "libcrypto SHA-256 final failed")
        return out
    }
}
