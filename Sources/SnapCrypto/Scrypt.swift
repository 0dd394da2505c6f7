import COpenSSL

/// The scrypt password-based key derivation function (RFC 7914).
public enum Scrypt {
    /// Cost parameters; `n` must be a power of two greater than 1.
    public struct Parameters: Sendable, Equatable, Codable {
        public var n: UInt64
        public var r: UInt64
        public var p: UInt64
        public init(n: UInt64, r: UInt64, p: UInt64) { self.n = n; self.r = r; self.p = p }
        /// Memory scrypt needs for these parameters: 128 · r · (n + p + 2) bytes.
        public var memoryBytes: UInt64 { 128 &* r &* (n &+ p &+ 2) }
    }

    /// Derives `length` bytes from `password` and `salt`.
    ///
    /// Memory is capped at twice the requirement of `parameters` (libcrypto's default cap
    /// of 32 MiB would reject N = 2^15, r = 8).
    public static func derive(password: [UInt8], salt: [UInt8], parameters: Parameters, length: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let maxMemory = max(parameters.memoryBytes * 2, 64 << 20)
        let ok = password.withUnsafeBufferPointer { pw in
            salt.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { o in
                    pw.withMemoryRebound(to: CChar.self) { pwc in
                        EVP_PBE_scrypt(pwc.baseAddress, pw.count, s.baseAddress, s.count,
                                       parameters.n, parameters.r, parameters.p, maxMemory, o.baseAddress, o.count)
                    }
                }
            }
        }
        guard ok == 1 else { throw libraryError("EVP_PBE_scrypt") }
        return out
    }
}
