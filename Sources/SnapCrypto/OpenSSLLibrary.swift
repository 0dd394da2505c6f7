import COpenSSL

/// The libcrypto this process runs with.
public enum OpenSSLLibrary {
    /// Its version text, e.g. `OpenSSL 3.0.15 3 Sep 2024`.
    public static var version: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}
