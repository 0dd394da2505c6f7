import COpenSSL

/// One libcrypto message-digest context (`EVP_MD_CTX`), behind the incremental hashers.
final class DigestContext {
    private let context: OpaquePointer
    private let name: String

    /// - Parameters:
    ///   - algorithm: the `EVP_MD` to compute (`EVP_sha256()`, `EVP_md5()`).
    ///   - name: for error messages.
    init(_ algorithm: OpaquePointer?, name: String) throws {
        guard let ctx = EVP_MD_CTX_new() else { throw libraryError("EVP_MD_CTX_new") }
        guard EVP_DigestInit_ex(ctx, algorithm, nil) == 1 else {
            EVP_MD_CTX_free(ctx)
            throw libraryError("EVP_DigestInit_ex(\(name))")
        }
        context = ctx
        self.name = name
    }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ data: UnsafeRawBufferPointer) throws {
        guard data.count > 0 else { return }
        guard EVP_DigestUpdate(context, data.baseAddress, data.count) == 1 else { throw libraryError("EVP_DigestUpdate(\(name))") }
    }

    /// The digest of everything fed; the context must not be used afterwards.
    func finalize(length: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        var written: UInt32 = 0
        let ok = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &written) }
        guard ok == 1, written == UInt32(length) else { throw libraryError("EVP_DigestFinal_ex(\(name))") }
        return out
    }
}
