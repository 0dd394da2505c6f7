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

/// HMAC-SHA256 under one fixed key on one reused libcrypto context, for many MACs on one
/// thread (a blob ID per chunk): `HMACSHA256.authenticate` looks the algorithm up and sets
/// the key again for every message, which costs more than hashing a small chunk.
///
/// Not thread-safe: give each worker its own.
public final class HMACSHA256Context {
    private let key: [UInt8]
    /// `nil` when libcrypto could not make a context: every MAC is then one-shot.
    private let context: OpaquePointer?

    public init(key: [UInt8]) {
        self.key = key
        context = Self.makeContext(key: key)
    }

    deinit { if let context { EVP_MAC_CTX_free(context) } }

    /// Writes the 32-byte MAC of `data` to the start of `output` (at least 32 bytes).
    public func authenticate(_ data: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= 32, "HMAC-SHA256 output needs 32 bytes")
        guard let context else {
            let mac = HMACSHA256.authenticate(data, key: key)
            output.copyBytes(from: mac)
            return
        }
        var length = 0
        let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)  // non-nil: count >= 32
        // A nil key restarts the MAC with the key already set.
        var ok = EVP_MAC_init(context, nil, 0, nil) == 1
        if ok && !data.isEmpty {
            ok = EVP_MAC_update(context, data.baseAddress!.assumingMemoryBound(to: UInt8.self), data.count) == 1  // non-empty
        }
        ok = ok && EVP_MAC_final(context, out, &length, 32) == 1
        // Fails only if libcrypto cannot allocate; a wrong MAC would silently corrupt IDs, so stop.
        precondition(ok && length == 32, "libcrypto HMAC-SHA256 failed")
    }

    /// The 32-byte MAC of `data`.
    public func authenticate(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            authenticate(data, into: UnsafeMutableRawBufferPointer(buffer))
            count = 32
        }
    }

    private static func makeContext(key: [UInt8]) -> OpaquePointer? {
        guard !key.isEmpty, let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { return nil }
        defer { EVP_MAC_free(mac) }  // the context keeps its own reference
        guard let context = EVP_MAC_CTX_new(mac) else { return nil }
        var digest = Array("SHA256".utf8CString)
        let keyed = digest.withUnsafeMutableBufferPointer { name -> Bool in
            var params = [OSSL_PARAM_construct_utf8_string("digest", name.baseAddress, 0), OSSL_PARAM_construct_end()]
            return key.withUnsafeBufferPointer { EVP_MAC_init(context, $0.baseAddress, $0.count, &params) == 1 }
        }
        guard keyed else {
            EVP_MAC_CTX_free(context)
            ERR_clear_error()
            return nil
        }
        return context
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
