import SnapCore
import SnapCrypto

/// AWS Signature Version 4 for requests signed in the `Authorization` header. Pure: no
/// clock, no I/O; the caller passes the time and the exact headers it will send.
///
/// Steps, as AWS documents them: a canonical request (method, canonical URI, canonical
/// query string, canonical headers, signed header names, payload hash) is hashed into a
/// string to sign (`AWS4-HMAC-SHA256`, time, scope, hash), which is signed with a key
/// derived from the secret, the date, the region and the service.
///
/// S3 differs from other services in one point: the canonical URI is the path encoded
/// exactly once (no double encoding, no `.`/`..` normalisation), so `canonicalURI` is
/// taken as given and must equal the path that goes on the wire.
public struct SigV4: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// What is signed. Header names may be in any case; values are normalised when signed
    /// (trimmed, runs of spaces collapsed) but should be sent as given.
    public struct Request: Sendable {
        public var method: String
        /// The URI-encoded path as sent, starting with `/` (see `encodePath`).
        public var canonicalURI: String
        /// Query parameters, not encoded.
        public var query: [(name: String, value: String)]
        /// Every header to sign; must include `host` and `x-amz-date`.
        public var headers: [(name: String, value: String)]
        /// Lower-case hex SHA-256 of the payload (or `UNSIGNED-PAYLOAD`).
        public var payloadHash: String

        public init(method: String, canonicalURI: String, query: [(name: String, value: String)] = [],
                    headers: [(name: String, value: String)], payloadHash: String) {
            self.method = method; self.canonicalURI = canonicalURI; self.query = query
            self.headers = headers; self.payloadHash = payloadHash
        }
    }

    public static let algorithm = "AWS4-HMAC-SHA256"
    /// Hex SHA-256 of the empty payload.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public let accessKeyID: String
    private let secretAccessKey: String
    public let region: String
    public let service: String

    public init(accessKeyID: String, secretAccessKey: String, region: String, service: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    /// Never shows the secret.
    public var description: String { "SigV4(\(accessKeyID), \(region), \(service))" }
    public var debugDescription: String { description }
    /// No children, so `dump` and debuggers cannot show the secret.
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    // MARK: - Canonical request

    /// S3's `UriEncode`: every UTF-8 byte except the unreserved `A-Z a-z 0-9 - _ . ~` becomes
    /// `%XX` (upper-case hex); `/` is kept unless `encodeSlash`.
    public static func uriEncode(_ text: String, encodeSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where !encodeSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The canonical URI of an object path such as `/bucket/dir/key`: each segment encoded once, `/` kept.
    public static func encodePath(_ path: String) -> String {
        uriEncode(path, encodeSlash: false)
    }

    /// `name=value` pairs, both encoded (`/` too), sorted by encoded name then value, joined by `&`.
    /// A parameter without a value signs as `name=`.
    public static func canonicalQueryString(_ query: [(name: String, value: String)]) -> String {
        query.map { (uriEncode($0.name, encodeSlash: true), uriEncode($0.value, encodeSlash: true)) }
            .sorted { a, b in
                a.0 == b.0 ? Array(a.1.utf8).lexicographicallyPrecedes(b.1.utf8)
                           : Array(a.0.utf8).lexicographicallyPrecedes(b.0.utf8)
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// The canonical header block (`name:value\n` per header, sorted by lower-cased name;
    /// repeated names joined by `,` in the order given) and the signed header list (`a;b;c`).
    public static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, signed: String) {
        var names: [String] = []
        var values: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased().trimmingSpaces()
            if values[name] == nil { names.append(name) }
            values[name, default: []].append(normalizeValue(header.value))
        }
        names.sort { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }
        let block = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()  // every name has values
        return (block, names.joined(separator: ";"))
    }

    /// Trims spaces and tabs at both ends and collapses each inner run of them into one space.
    static func normalizeValue(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for character in value {
            if character == " " || character == "\t" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(character)
            }
        }
        return out
    }

    /// The canonical request, six lines joined by `\n`.
    public static func canonicalRequest(_ request: Request) -> String {
        let headers = canonicalHeaders(request.headers)
        return [request.method, request.canonicalURI, canonicalQueryString(request.query),
                headers.block, headers.signed, request.payloadHash].joined(separator: "\n")
    }

    // MARK: - Signing

    /// `DATE/REGION/SERVICE/aws4_request` for the `yyyyMMdd` date.
    public func scope(date: String) -> String { "\(date)/\(region)/\(service)/aws4_request" }

    /// The string to sign for a canonical request at `amzDate` (`yyyyMMdd'T'HHmmss'Z'`).
    public func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        [Self.algorithm, amzDate, scope(date: String(amzDate.prefix(8))),
         Hex.encode(SHA256.hash(Array(canonicalRequest.utf8)))].joined(separator: "\n")
    }

    /// The signing key: HMAC chain over the date, region, service and `aws4_request`, keyed first with `AWS4` + secret.
    public static func signingKey(secretAccessKey: String, date: String, region: String, service: String) -> [UInt8] {
        var key = Array("AWS4\(secretAccessKey)".utf8)
        for part in [date, region, service, "aws4_request"] {
            key = HMACSHA256.authenticate(Array(part.utf8), key: key)
        }
        return key
    }

    /// The lower-case hex signature of `request` at `amzDate`.
    public func signature(for request: Request, amzDate: String) -> String {
        let toSign = stringToSign(canonicalRequest: Self.canonicalRequest(request), amzDate: amzDate)
        let key = Self.signingKey(secretAccessKey: secretAccessKey, date: String(amzDate.prefix(8)),
                                  region: region, service: service)
        return Hex.encode(HMACSHA256.authenticate(Array(toSign.utf8), key: key))
    }

    /// The value of the `Authorization` header for `request` at `amzDate`.
    public func authorization(for request: Request, amzDate: String) -> String {
        let signed = Self.canonicalHeaders(request.headers).signed
        return "\(Self.algorithm) Credential=\(accessKeyID)/\(scope(date: String(amzDate.prefix(8)))), "
            + "SignedHeaders=\(signed), Signature=\(signature(for: request, amzDate: amzDate))"
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
