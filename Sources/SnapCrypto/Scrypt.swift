import COpenSSL
import CScrypt

/// The scrypt password-based key derivation function (RFC 7914).
///
/// The memory-hard mixing (ROMix) is ours, in `CScrypt`: it keeps only every fourth
/// entry of scrypt's table and recomputes the others, so N = 2^15, r = 8 needs 8 MiB
/// instead of 32 MiB for 1.75 times the mixing. The output is scrypt's, bit for bit, so
/// the parameters cost an attacker exactly what they always did. PBKDF2 is libcrypto's.
public enum Scrypt {
    /// Cost parameters; `n` must be a power of two greater than 1.
    public struct Parameters: Sendable, Equatable, Codable {
        public var n: UInt64
        public var r: UInt64
        public var p: UInt64
        public init(n: UInt64, r: UInt64, p: UInt64) { self.n = n; self.r = r; self.p = p }
    }

    /// Every how many entries of the table ROMix stores one (a power of two).
    static let tableInterval: UInt64 = 4

    /// Derives `length` bytes from `password` and `salt`.
    ///
    /// Throws `CryptoError.invalidParameters` when `parameters` are not valid scrypt
    /// parameters, or need more memory than can be allocated.
    public static func derive(password: [UInt8], salt: [UInt8], parameters: Parameters, length: Int) throws -> [UInt8] {
        let (n, r, p) = (parameters.n, parameters.r, parameters.p)
        guard n > 1, n.nonzeroBitCount == 1 else {
            throw CryptoError.invalidParameters("scrypt N must be a power of two greater than 1, not \(n)")
        }
        // PBKDF2's output, p blocks of 128 · r bytes, must fit libcrypto's Int32 length.
        let (rp, overflow) = r.multipliedReportingOverflow(by: p)
        guard r > 0, p > 0, !overflow, rp < 1 << 24, length > 0, length <= Int32.max else {
            throw CryptoError.invalidParameters("scrypt r = \(r), p = \(p) or output length \(length) out of range")
        }
        let blockBytes = 128 * Int(r)
        var blocks = try pbkdf2(password: password, salt: salt, length: blockBytes * Int(p))
        defer { wipe(&blocks) }
        let interval = min(tableInterval, n)
        for index in 0..<Int(p) {
            let status = blocks.withUnsafeMutableBufferPointer { buffer -> Int32 in
                guard let base = buffer.baseAddress else { return -1 }
                return snap_scrypt_romix(base + index * blockBytes, Int(r), n, interval)
            }
            guard status == 0 else {
                throw CryptoError.invalidParameters("scrypt N = \(n), r = \(r) needs more memory than could be allocated")
            }
        }
        return try pbkdf2(password: password, salt: blocks, length: length)
    }

    /// PBKDF2-HMAC-SHA256 with one iteration, as scrypt uses it.
    static func pbkdf2(password: [UInt8], salt: [UInt8], length: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        // libcrypto is given a valid pointer even for an empty password or salt.
        let ok = (password.isEmpty ? [0] : password).withUnsafeBufferPointer { pw in
            (salt.isEmpty ? [0] : salt).withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { o in
                    pw.withMemoryRebound(to: CChar.self) { pwc in
                        PKCS5_PBKDF2_HMAC(pwc.baseAddress, Int32(password.count), s.baseAddress, Int32(salt.count),
                                          1, EVP_sha256(), Int32(length), o.baseAddress)
                    }
                }
            }
        }
        guard ok == 1 else { throw libraryError("PKCS5_PBKDF2_HMAC") }
        return out
    }

    private static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
    }
}
