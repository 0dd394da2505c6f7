import COpenSSL

/// The scrypt password-based key derivation function (RFC 7914), computed by libcrypto's
/// `EVP_PBE_scrypt`.
///
/// scrypt's parameters come from key files that anyone with write access to a repository
/// can plant, so every derivation is bounded by a `Limits`: parameters that would need more
/// memory or work than it allows are refused before anything is allocated.
public enum Scrypt {
    /// Cost parameters; `n` must be a power of two greater than 1.
    public struct Parameters: Sendable, Equatable, Codable, CustomStringConvertible {
        public var n: UInt64
        public var r: UInt64
        public var p: UInt64
        public init(n: UInt64, r: UInt64, p: UInt64) { self.n = n; self.r = r; self.p = p }

        /// The bytes libcrypto allocates for one derivation: the table V (128·r·N), its two
        /// working blocks X and T (2·128·r) and the p lanes B (128·r·p), so 128·r·(N + 2 + p).
        /// `nil` when that does not fit in 64 bits.
        public var memoryBytes: UInt64? {
            guard p <= UInt64.max - 2 else { return nil }
            let (blocks, o1) = n.addingReportingOverflow(p + 2)
            let (perBlock, o2) = r.multipliedReportingOverflow(by: 128)
            let (total, o3) = blocks.multipliedReportingOverflow(by: perBlock)
            return o1 || o2 || o3 ? nil : total
        }

        /// The mixing work, in 128-byte blocks: each of the p lanes writes the N entries of
        /// the table (r blocks each) and reads them back, so the time grows as N·r·p.
        /// `nil` when that does not fit in 64 bits.
        public var work: UInt64? {
            let (nr, o1) = n.multipliedReportingOverflow(by: r)
            let (nrp, o2) = nr.multipliedReportingOverflow(by: p)
            return o1 || o2 ? nil : nrp
        }

        /// `N=2^15, r=8` (p is named only when it is not 1).
        public var description: String {
            let nText = n > 1 && n.nonzeroBitCount == 1 ? "2^\(n.trailingZeroBitCount)" : "\(n)"
            return p == 1 ? "N=\(nText), r=\(r)" : "N=\(nText), r=\(r), p=\(p)"
        }
    }

    /// How much memory and work one derivation may take.
    ///
    /// Memory is bounded by `maxMemory` (compared with `Parameters.memoryBytes`). In
    /// libcrypto p multiplies the time but not the memory (the lanes run one after the
    /// other over one table), so the work is bounded too: N·r·p may be at most
    /// `workFactor` times the blocks that fill `maxMemory` (`maxMemory / 128`). With the
    /// default 1 GiB that admits four times the mixing of a 1 GiB table, for example
    /// N = 2^20, r = 8, p = 4, or N = 2^15, r = 8, p = 64 (p's largest value in a key file).
    public struct Limits: Sendable, Equatable {
        /// The largest allocation allowed, in bytes.
        public var maxMemory: UInt64
        /// 1 GiB: 32 times the default key cost (N = 2^15, r = 8, p = 1, 32 MiB).
        public static let defaultMaxMemory: UInt64 = 1 << 30
        /// How many tables of `maxMemory` bytes' worth of mixing a derivation may do.
        public static let workFactor: UInt64 = 4

        /// - Parameter maxMemory: the largest allocation allowed, in bytes (default 1 GiB).
        public init(maxMemory: UInt64 = defaultMaxMemory) { self.maxMemory = maxMemory }

        /// The most work allowed, in 128-byte blocks (see `Parameters.work`).
        public var maxWork: UInt64 {
            let (work, overflow) = (maxMemory / 128).multipliedReportingOverflow(by: Self.workFactor)
            return overflow ? .max : work
        }

        /// Throws `CryptoError.scryptAboveLimit` when `parameters` need more memory or work
        /// than these limits allow. Cheap: it only does arithmetic.
        public func check(_ parameters: Parameters) throws {
            guard let memory = parameters.memoryBytes, memory <= maxMemory else {
                throw CryptoError.scryptAboveLimit(.memory, parameters: parameters, limits: self)
            }
            guard let work = parameters.work, work <= maxWork else {
                throw CryptoError.scryptAboveLimit(.work, parameters: parameters, limits: self)
            }
        }
    }

    /// Which of the limits a parameter set exceeds.
    public enum Resource: Sendable, Equatable {
        case memory
        case work
    }

    /// Derives `length` bytes from `password` and `salt`.
    ///
    /// - Parameters:
    ///   - limits: the most memory and work to spend; checked before anything is allocated.
    /// - Throws: `CryptoError.invalidParameters` when `parameters` are not valid scrypt
    ///   parameters (N not a power of two greater than 1, r or p zero, N ≥ 2^(16·r), r·p ≥
    ///   2^30); `CryptoError.scryptAboveLimit` when they need more than `limits` allow;
    ///   `CryptoError.library` when libcrypto fails anyway (for example out of memory).
    public static func derive(password: [UInt8], salt: [UInt8], parameters: Parameters, length: Int,
                              limits: Limits = Limits()) throws -> [UInt8] {
        let (n, r, p) = (parameters.n, parameters.r, parameters.p)
        guard n > 1, n.nonzeroBitCount == 1 else {
            throw CryptoError.invalidParameters("scrypt N must be a power of two greater than 1, not \(n)")
        }
        // RFC 7914: N < 2^(128·r/8) and r·p < 2^30; libcrypto refuses the same sets.
        let (rp, overflow) = r.multipliedReportingOverflow(by: p)
        guard r > 0, p > 0, !overflow, rp < 1 << 30, r >= 4 || n < UInt64(1) << (16 * r) else {
            throw CryptoError.invalidParameters("scrypt parameters \(parameters) are out of range")
        }
        guard length > 0, length <= Int32.max else {
            throw CryptoError.invalidParameters("scrypt output length \(length) is out of range")
        }
        try limits.check(parameters)
        var out = [UInt8](repeating: 0, count: length)
        // libcrypto is given a valid pointer even for an empty password or salt. Its own
        // memory bound is `limits.maxMemory`, which `check` showed is enough: left at 0 it
        // would stop at 32 MiB, below the default cost.
        let ok = (password.isEmpty ? [0] : password).withUnsafeBufferPointer { pw in
            (salt.isEmpty ? [0] : salt).withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { o in
                    pw.withMemoryRebound(to: CChar.self) { pwc in
                        EVP_PBE_scrypt(pwc.baseAddress, password.count, s.baseAddress, salt.count,
                                       n, r, p, limits.maxMemory, o.baseAddress, length)
                    }
                }
            }
        }
        guard ok == 1 else {
            out.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
            throw libraryError("EVP_PBE_scrypt (\(parameters))")
        }
        return out
    }
}

/// Sizes for messages: `16 GiB`, `1.5 GiB`, `32 MiB`, `512 B`.
func binarySize(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var unit = 0
    var scaled = Double(bytes)
    while scaled >= 1024, unit < units.count - 1 { scaled /= 1024; unit += 1 }
    let rounded = (scaled * 10).rounded() / 10
    let number = rounded == rounded.rounded() ? "\(Int(rounded))" : "\(rounded)"
    return "\(number) \(units[unit])"
}
