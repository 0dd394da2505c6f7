import CCurlShim

/// HTTP dates (`Last-Modified`, `Date`: RFC 9110 IMF-fixdate and its older forms), parsed
/// by libcurl's `curl_getdate` rather than by a formatter of our own.
public enum HTTPDate {
    /// Seconds since 1970, or `nil` when `text` is not a date. Only after a transfer (libcurl is
    /// loaded by the first one).
    public static func parse(_ text: String) -> Double? {
        let seconds = snap_curl_getdate(text)
        return seconds < 0 ? nil : Double(seconds)
    }
}

extension TransferResult {
    /// When the server says the file was last modified (`Last-Modified`), or, failing that,
    /// the server's clock at the reply (`Date`): the storage's time either way.
    public var storageTime: Double? {
        headers["last-modified"].flatMap(HTTPDate.parse) ?? headers["date"].flatMap(HTTPDate.parse)
    }
}
