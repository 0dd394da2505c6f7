import COpenSSL

/// The libcrypto this process runs with.
public enum OpenSSLLibrary {
    /// Its version text, e.g. `OpenSSL 3.0.15 3 Sep 2024`.
    public static var version: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}

extension OpenSSLLibrary {
    /// Keeps libcrypto's state until the process is gone. By default OpenSSL frees it in an
    /// `atexit` handler, under any thread still encrypting or decrypting at that moment (the
    /// upload workers of a command that stops with an error, a mount's readers when it is
    /// interrupted), which then crashes; the kernel reclaims that memory at exit anyway.
    /// Call it first thing in `main`.
    public static func keepUntilExit() {
        _ = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil)
    }
}
