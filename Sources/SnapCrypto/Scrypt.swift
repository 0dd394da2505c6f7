import COpenSSL

/// The scrypt password-based key derivation function (RFC 7914).
public enum Scrypt {
    /// Cost parameters; `n` must be a power of two greater than 1.
    public struct Parameters: Sendable, Equatable, Codable {
        public var n: UInt64
        public var r: UInt64
        public var p: UInt64
        public init(n: UInt64, r: UInt64, p: UInt64) { self.n = n; self.r = r; self.p = p }
        /// Memory scrypt needs for these parameters: 128 · r · (n + p + 2) bytes, or
        /// `UInt64.max` when that does not fit in 64 bits.
        public var memoryBytes: UInt64 {
            let (blocks, o1) = n.addingReportingOverflow(p)
            let (blocksPlus2, o2) = blocks.addingReportingOverflow(2)
            let (blockBytes, o3) = r.multipliedReportingOverflow(by: 128)
            let (total, o4) = blocksPlus2.multipliedReportingOverflow(by: blockBytes)
            return o1 || o2 || o3 || o4 ? .max : total
        }
    }

    /// Derives `length` bytes from `password` and `salt`.
    ///
    /// Memory is capped at twice the requirement of `parameters` (libcrypto's default cap
    /// of 32 MiB would reject N = 2^15, r = 8).
    public static func derive(password: [UInt8], salt: [UInt8], parameters: Parameters, length: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        // Saturating: absurd parameters must reach libcrypto and be refused there, not trap here.
        let (doubled, overflow) = parameters.memoryBytes.multipliedReportingOverflow(by: 2)
        let maxMemory = max(overflow ? .max : doubled, 64 << 20)
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
