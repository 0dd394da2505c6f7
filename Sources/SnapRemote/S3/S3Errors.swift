import SnapStorage

/// The `Code` and `Message` of an S3 error response body (`<Error><Code>…</Code>…</Error>`).
struct S3ErrorBody: Equatable {
    var code: String?
    var message: String?

    /// Reads an error body; `nil` when the bytes are not an S3 `Error` document.
    init?(_ body: [UInt8]) {
        guard let root = S3XMLNode.parse(body), root.name == "Error" else { return nil }
        code = root.text(of: "Code")?.trimmingSpaces()
        message = root.text(of: "Message")?.trimmingSpaces()
    }
}

/// Turns S3 responses and transfer failures into `StorageError`s, classified where they
/// happen: callers (and the retry decorator) act on the class, never on the text.
///
/// - 404 and `NoSuchKey` are `notFound` (for a missing bucket, `permanent`).
/// - 401, 403, `SignatureDoesNotMatch` and `InvalidAccessKeyId` are `permanent`, with a
///   message saying the credentials were refused and the S3 error code, never the secret.
/// - 5xx, 429, `SlowDown`, `RequestTimeout`, `InternalError`, and a body that arrived
///   different from what was sent (`BadDigest`, `XAmzContentSHA256Mismatch`) are `transient`.
/// - Every other status is `permanent`.
enum S3ErrorMapping {
    static let credentialCodes: Set<String> = [
        "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "ExpiredToken", "InvalidSecurity",
        "TokenRefreshRequired", "AuthorizationHeaderMalformed",
    ]
    static let transientCodes: Set<String> = [
        "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "RequestTimeTooSkewedRetry",
        "BadDigest", "XAmzContentSHA256Mismatch", "IncompleteBody", "OperationAborted", "Throttling",
        "ConditionalRequestConflict", "NoSuchUpload",
    ]

    /// Classifies a response whose status is not a success of the operation.
    static func error(status: Int, headers: [String: String], body: [UInt8], operation: String,
                      file: FileName?, location: String) -> StorageError {
        let parsed = S3ErrorBody(body)
        let code = parsed?.code ?? ""
        func permanent(_ detail: String) -> StorageError {
            .permanent(operation: operation, file: file, location: location, detail: detail)
        }
        func transient(_ detail: String) -> StorageError {
            .transient(operation: operation, file: file, location: location, detail: detail)
        }
        let label = code.isEmpty ? "HTTP \(status)" : "HTTP \(status) \(code)"
        let serverText = parsed?.message.map { ": " + String($0.prefix(300)) } ?? ""

        if code == "NoSuchBucket" {
            return permanent("\(label): the bucket does not exist (snap init creates it)")
        }
        if code == "NoSuchKey" || (status == 404 && code != "NoSuchUpload") {
            if let file { return .notFound(file, location: location) }
            return permanent("\(label)\(serverText)")
        }
        if credentialCodes.contains(code) || (status == 401) || (status == 403 && code.isEmpty) {
            // The server's message may quote the canonical request or string to sign; the code alone says enough.
            return permanent("\(label): the server refused the credentials (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the session token, or the shared credentials file)")
        }
        if code == "RequestTimeTooSkewed" {
            return permanent("\(label): this machine's clock is too far from the server's; correct the clock")
        }
        if status == 403 {
            return permanent("\(label): the server refused access with these credentials\(serverText)")
        }
        if code == "BadDigest" || code == "XAmzContentSHA256Mismatch" {
            return transient("\(label): the server received different bytes than were sent (damaged in transit)")
        }
        if transientCodes.contains(code) || status == 429 || (500...599).contains(status) {
            return transient("\(label)\(serverText)")
        }
        if (300...399).contains(status) {
            let region = headers["x-amz-bucket-region"].map { " (the bucket is in region \($0): set AWS_REGION)" } ?? ""
            return permanent("\(label): the server redirected the request\(region)")
        }
        return permanent("\(label)\(serverText)")
    }
}
