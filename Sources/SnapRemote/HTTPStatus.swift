import SnapHTTP
import SnapStorage

/// Classifies HTTP replies and libcurl failures as `StorageError`s.
enum HTTPStatus {
    /// The error for a reply with a non-success status.
    static func error(_ r: TransferResult, operation: String, file: FileName?, location: String) -> StorageError {
        let detail = "HTTP \(r.status)" + (r.body.isEmpty ? "" : ": " + String(decoding: r.body.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " "))
        switch r.status {
        case 404:
            if let file { return .notFound(file, location: location) }
            return .permanent(operation: operation, file: nil, location: location, detail: detail)
        case 401, 403:
            return .permanent(operation: operation, file: file, location: location,
                              detail: "the server refused the credentials (HTTP \(r.status)); check the user name and password")
        case 408, 429, 500...599:
            return .transient(operation: operation, file: file, location: location, detail: detail)
        default:
            return .permanent(operation: operation, file: file, location: location, detail: detail)
        }
    }
}

extension TransferError {
    /// The storage error for a transfer that got no reply.
    func storageError(operation: String, file: FileName?, location: String) -> StorageError {
        switch kind {
        case .transient: return .transient(operation: operation, file: file, location: location, detail: message)
        case .timedOut: return .timedOut(operation: operation, file: file, location: location, detail: message)
        case .notFound:
            if let file { return .notFound(file, location: location) }
            return .permanent(operation: operation, file: nil, location: location, detail: message)
        case .permanent: return .permanent(operation: operation, file: file, location: location, detail: message)
        }
    }
}

/// Base64 (RFC 4648) encoding, for HTTP basic authentication.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0x0f) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3f)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
