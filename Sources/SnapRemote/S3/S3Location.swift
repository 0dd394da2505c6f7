import Foundation

/// Where an S3 repository lives: endpoint, bucket, key prefix, region and addressing style.
///
/// Accepted forms:
/// - `s3:https://HOST[:PORT]/BUCKET[/PREFIX]` and `s3:http://…`: any S3-compatible server,
///   path-style by default (`https://HOST/BUCKET/KEY`).
/// - `s3:BUCKET[/PREFIX]`: Amazon S3, virtual-host style by default
///   (`https://BUCKET.s3.REGION.amazonaws.com/KEY`).
///
/// The region comes from `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the host name of an
/// `s3.REGION.amazonaws.com` endpoint, else `us-east-1`. Credentials never belong in the
/// location (see `S3Credentials`).
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    /// How the bucket is named in a request.
    public enum AddressingStyle: String, Sendable {
        /// `https://HOST/BUCKET/KEY`
        case path
        /// `https://BUCKET.HOST/KEY`
        case virtualHost
    }

    /// `https` or `http`.
    public let scheme: String
    /// The service's host name or address, without the bucket (IPv6 addresses in brackets).
    public let endpointHost: String
    /// An explicit port, or `nil` for the scheme's default.
    public let port: Int?
    public let bucket: String
    /// The key prefix without leading or trailing `/`; empty for the bucket's root.
    public let prefix: String
    public let region: String
    public let style: AddressingStyle
    /// Whether the location was given in the short Amazon S3 form (`s3:BUCKET/PREFIX`).
    public let isAmazonShortForm: Bool

    /// The location as a string, normalised; never contains credentials.
    public var description: String {
        let tail = prefix.isEmpty ? bucket : "\(bucket)/\(prefix)"
        if isAmazonShortForm { return "s3:\(tail)" }
        return "s3:\(scheme)://\(authority)/\(tail)"
    }

    /// `HOST` or `HOST:PORT` of the endpoint.
    var authority: String { port.map { "\(endpointHost):\($0)" } ?? endpointHost }

    /// The `Host` header of every request.
    var hostHeader: String { style == .path ? authority : "\(bucket).\(authority)" }

    /// Parses a location string.
    ///
    /// - Parameters:
    ///   - text: `s3:https://HOST[:PORT]/BUCKET[/PREFIX]`, `s3:http://…` or `s3:BUCKET[/PREFIX]`.
    ///   - style: forces path-style or virtual-host style; `nil` picks the form's default.
    ///   - environment: where `AWS_REGION` and `AWS_DEFAULT_REGION` are looked up.
    /// - Throws: `S3ConfigurationError` saying what is wrong with the string.
    public static func parse(_ text: String, style: AddressingStyle? = nil,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Location {
        guard text.hasPrefix("s3:") else {
            throw S3ConfigurationError("an S3 location starts with \"s3:\" (s3:https://HOST/BUCKET/PREFIX or s3:BUCKET/PREFIX), got \"\(text)\"")
        }
        let rest = String(text.dropFirst(3))
        let envRegion = [environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]]
            .compactMap { $0?.trimmingSpaces() }.first { !$0.isEmpty }

        if let schemeEnd = rest.range(of: "://") {
            let scheme = String(rest[..<schemeEnd.lowerBound])
            guard scheme == "https" || scheme == "http" else {
                throw S3ConfigurationError("S3 endpoints use https:// or http://, got \"\(scheme)://\" in \"\(text)\"")
            }
            let afterScheme = rest[schemeEnd.upperBound...]
            let slash = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
            let authorityText = String(afterScheme[..<slash])
            if authorityText.contains("@") {
                // Do not echo the text: it probably holds a secret.
                throw S3ConfigurationError("an S3 location must not contain credentials (user@host); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or use the shared credentials file")
            }
            let (host, port) = try parseAuthority(authorityText, in: text)
            let path = afterScheme[slash...].drop { $0 == "/" }
            let (bucket, prefix) = try parseBucketAndPrefix(String(path), in: text)
            let region = envRegion ?? regionOfAmazonHost(host) ?? "us-east-1"
            let chosen = style ?? .path
            if chosen == .virtualHost && (host.hasPrefix("[") || host.allSatisfy({ $0.isNumber || $0 == "." })) {
                throw S3ConfigurationError("virtual-host style needs a DNS name for the endpoint, not the address \(host)")
            }
            return S3Location(scheme: scheme, endpointHost: host, port: port, bucket: bucket, prefix: prefix,
                              region: region, style: chosen, isAmazonShortForm: false)
        }

        if rest.contains(":") {
            throw S3ConfigurationError("\"\(text)\" is not an S3 location: use s3:https://HOST[:PORT]/BUCKET[/PREFIX] or s3:BUCKET[/PREFIX]")
        }
        let (bucket, prefix) = try parseBucketAndPrefix(rest, in: text)
        let region = envRegion ?? "us-east-1"
        return S3Location(scheme: "https", endpointHost: "s3.\(region).amazonaws.com", port: nil, bucket: bucket,
                          prefix: prefix, region: region, style: style ?? .virtualHost, isAmazonShortForm: true)
    }

    /// Splits `HOST[:PORT]` (IPv6 in brackets) and checks both parts.
    private static func parseAuthority(_ authority: String, in text: String) throws -> (String, Int?) {
        var host = authority
        var portText: String?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw S3ConfigurationError("unclosed \"[\" in the host of \"\(text)\"")
            }
            host = String(authority[...close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw S3ConfigurationError("unexpected text after the host in \"\(text)\"") }
                portText = String(after.dropFirst())
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = String(authority[..<colon])
            portText = String(authority[authority.index(after: colon)...])
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[]:")
        guard !host.isEmpty, host.allSatisfy({ allowed.contains($0) }) else {
            throw S3ConfigurationError("missing or malformed host in \"\(text)\" (expected s3:https://HOST[:PORT]/BUCKET[/PREFIX])")
        }
        guard let portText else { return (host, nil) }
        guard let port = Int(portText), (1...65_535).contains(port), portText.allSatisfy(\.isNumber) else {
            throw S3ConfigurationError("the port in \"\(text)\" must be a number from 1 to 65535")
        }
        return (host, port)
    }

    /// Splits `BUCKET[/PREFIX]`, checks the bucket name, and normalises the prefix.
    private static func parseBucketAndPrefix(_ path: String, in text: String) throws -> (String, String) {
        if path.contains("?") || path.contains("#") {
            throw S3ConfigurationError("an S3 location has no query or fragment (\"?\" or \"#\"): \"\(text)\"")
        }
        let parts = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let bucket = parts.first.map(String.init) ?? ""
        try checkBucketName(bucket, in: text)
        var prefix = parts.count > 1 ? String(parts[1]) : ""
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if !prefix.isEmpty {
            for segment in prefix.split(separator: "/", omittingEmptySubsequences: false) {
                if segment.isEmpty || segment == "." || segment == ".." {
                    throw S3ConfigurationError("the key prefix in \"\(text)\" has an empty, \".\" or \"..\" segment")
                }
            }
        }
        return (bucket, prefix)
    }

    /// S3's bucket naming rules: 3–63 characters of `a-z 0-9 . -`, starting and ending with
    /// a letter or digit, no `..`, and not shaped like an IP address.
    static func checkBucketName(_ bucket: String, in text: String) throws {
        if bucket.isEmpty {
            throw S3ConfigurationError("no bucket in \"\(text)\" (expected s3:https://HOST[:PORT]/BUCKET[/PREFIX] or s3:BUCKET[/PREFIX])")
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
        let edges = Set("abcdefghijklmnopqrstuvwxyz0123456789")
        let ipShaped = bucket.split(separator: ".").count == 4 && bucket.allSatisfy { $0.isNumber || $0 == "." }
        guard (3...63).contains(bucket.count), bucket.allSatisfy({ allowed.contains($0) }),
              let first = bucket.first, let last = bucket.last, edges.contains(first), edges.contains(last),
              !bucket.contains(".."), !ipShaped else {
            throw S3ConfigurationError("\"\(bucket)\" is not a valid bucket name: use 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit")
        }
    }

    /// The region in an `s3.REGION.amazonaws.com` host name.
    private static func regionOfAmazonHost(_ host: String) -> String? {
        let labels = host.split(separator: ".")
        guard labels.count == 4, labels[0] == "s3", labels[2] == "amazonaws", labels[3] == "com" else { return nil }
        return String(labels[1])
    }

    // MARK: - Requests

    /// The object key of a path below the prefix (`keys/ID`, `config`, …).
    func key(_ relative: String) -> String { prefix.isEmpty ? relative : "\(prefix)/\(relative)" }

    /// The encoded path of an object (or of the bucket itself when `key` is `nil`), as sent and as signed.
    func canonicalURI(key: String?) -> String {
        let raw: String
        switch style {
        case .path: raw = key.map { "/\(bucket)/\($0)" } ?? "/\(bucket)"
        case .virtualHost: raw = "/" + (key ?? "")
        }
        return SigV4.encodePath(raw)
    }

    /// The full URL for an object (or the bucket), with query parameters encoded as they are signed.
    func url(key: String?, query: [(name: String, value: String)]) -> String {
        var url = "\(scheme)://\(hostHeader)\(canonicalURI(key: key))"
        if !query.isEmpty {
            url += "?" + query.map { item in
                let name = SigV4.uriEncode(item.name, encodeSlash: true)
                return item.value.isEmpty ? name : "\(name)=\(SigV4.uriEncode(item.value, encodeSlash: true))"
            }.joined(separator: "&")
        }
        return url
    }
}
