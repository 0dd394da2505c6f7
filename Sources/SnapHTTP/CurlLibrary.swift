import CCurlShim

/// The libcurl snap loads for remote storage (only when a remote is used, or asked for here).
public enum CurlLibrary {
    /// Its version text (`libcurl/7.88.1 OpenSSL/3.0.15 …`), or why it cannot be loaded.
    public static var version: String {
        var error = [CChar](repeating: 0, count: 512)
        guard snap_curl_load(&error, error.count) == 0 else {
            return "not available (" + String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + ")"
        }
        return String(cString: snap_curl_version())
    }
}
