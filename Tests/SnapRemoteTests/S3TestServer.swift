import XCTest
import SnapCrypto
import SnapStorage
@testable import SnapRemote

/// The S3 server the server tests run against, from the environment that
/// `scripts/test-servers/radosgw.sh start DIR` writes to `DIR/env`.
///
/// Without `S3_ENDPOINT` the tests fail (a missing server must not pass silently), unless
/// `SNAP_SKIP_SERVER_TESTS=1` asks to skip them.
struct S3TestServer {
    let endpoint: String
    let credentials: S3Credentials
    let region: String

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "S3_ENDPOINT is not set: run the S3 server tests under scripts/test-servers "
                + "(scripts/with-test-servers.sh swift test --filter SnapRemoteTests; or by hand: scripts/test-servers/radosgw.sh start DIR; "
                + "set -a; . DIR/env; set +a; swift test --filter SnapRemoteTests; scripts/test-servers/radosgw.sh stop DIR), "
                + "or set SNAP_SKIP_SERVER_TESTS=1 to skip them"
        }
    }

    static func fromEnvironment() throws -> S3TestServer {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["S3_ENDPOINT"], !endpoint.isEmpty else {
            if env["SNAP_SKIP_SERVER_TESTS"] == "1" { throw XCTSkip("SNAP_SKIP_SERVER_TESTS=1: S3 server tests skipped") }
            throw Missing()
        }
        guard let id = env["AWS_ACCESS_KEY_ID"], let secret = env["AWS_SECRET_ACCESS_KEY"] else {
            throw S3ConfigurationError("S3_ENDPOINT is set but AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not")
        }
        return S3TestServer(endpoint: endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint,
                            credentials: S3Credentials(accessKeyID: id, secretAccessKey: secret),
                            region: env["AWS_DEFAULT_REGION"] ?? env["AWS_REGION"] ?? "us-east-1")
    }

    /// A bucket name no other test uses.
    static func freshBucketName() throws -> String {
        "snap-test-" + (try SecureRandom.bytes(8)).map { String($0, radix: 16).leftPadded(2) }.joined()
    }

    /// A backend on a new, empty bucket (created here), below `prefix`.
    func freshBackend(prefix: String = "repo", options: S3Backend.Options = .init(), objectLock: Bool = false,
                      credentials: S3Credentials? = nil) throws -> S3Backend {
        let bucket = try Self.freshBucketName()
        let location = try S3Location.parse("s3:\(endpoint)/\(bucket)\(prefix.isEmpty ? "" : "/" + prefix)",
                                            environment: ["AWS_REGION": region])
        let owner = try S3Backend(location: location, credentials: self.credentials, options: options)
        try owner.createBucket(objectLock: objectLock)
        guard let credentials else { return owner }
        return try S3Backend(location: location, credentials: credentials, options: options)
    }

    /// A second backend on the same bucket and prefix as `backend`, with other options or credentials.
    func sibling(of backend: S3Backend, options: S3Backend.Options? = nil, credentials: S3Credentials? = nil) throws -> S3Backend {
        try S3Backend(location: backend.s3, credentials: credentials ?? self.credentials, options: options ?? backend.options)
    }

    /// Deletes every object and the bucket, best effort (buckets with Object Lock stay).
    func remove(_ backend: S3Backend) {
        let cleaner = (try? sibling(of: backend, options: S3Backend.Options())) ?? backend
        for kind in FileKind.allCases {
            for info in (try? cleaner.list(kind)) ?? [] { try? cleaner.delete(info.file) }
        }
        _ = try? cleaner.send(.init(method: "DELETE", key: nil), operation: "delete bucket", file: nil)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
