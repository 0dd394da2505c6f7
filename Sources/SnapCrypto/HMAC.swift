import COpenSSL

/// HMAC-SHA256 (RFC 2104) through libcrypto.
public enum HMACSHA256 {
    /// The 32-byte MAC of `data` under `key`.
    public static func authenticate(_ data: UnsafeRawBufferPointer, key: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        key.withUnsafeBufferPointer { k in
            out.withUnsafeMutableBufferPointer { o in
                // A nil data pointer is not accepted by HMAC() even for empty input.
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { empty in
                    let pointer = data.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(empty.baseAddress!)
                    let result = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), pointer, data.count, o.baseAddress, &length)
                    // Fails only if libcrypto cannot allocate; a wrong MAC would silently corrupt IDs, so stop.
                    precondition(result != nil && length == 32, "libcrypto HMAC-SHA256 failed")
                }
            }
        }
        return out
    }

    /// The 32-byte MAC of `data` under `key`.
    public static func authenticate(_ data: [UInt8], key: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { authenticate($0, key: key) }
    }
}

/// HKDF with SHA-256 (RFC 5869), built on `HMACSHA256`.
public enum HKDF {
    /// Derives `length` bytes (at most 255 × 32) from input keying material, a salt and context info.
    public static func derive(key ikm: [UInt8], salt: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        precondition(length <= 255 * 32, "HKDF-SHA256 output is limited to 8160 bytes")
        let prk = HMACSHA256.authenticate(ikm, key: salt.isEmpty ? [UInt8](repeating: 0, count: 32) : salt)
        var output: [UInt8] = []
        output.reserveCapacity(length + 32)
        var previous: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            previous = HMACSHA256.authenticate(previous + info + [counter], key: prk)
            output += previous
            counter &+= 1
        }
        return Array(output.prefix(length))
    }
}
