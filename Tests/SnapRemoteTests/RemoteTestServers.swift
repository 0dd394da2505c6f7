import Foundation
import SnapHTTP
import XCTest

/// The SFTP and REST servers the server tests use, from the environment written by
/// `scripts/test-servers/sshd.sh` and `rclone.sh` (exported by
/// `scripts/with-test-servers.sh`). Missing servers fail the tests unless
/// `SNAP_SKIP_SERVER_TESTS=1` asks to skip them.
enum RemoteTestServers {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static func require(_ key: String, server: String) throws -> String {
        if let value = environment[key], !value.isEmpty { return value }
        if environment["SNAP_SKIP_SERVER_TESTS"] == "1" { throw XCTSkip("SNAP_SKIP_SERVER_TESTS=1: \(server) tests skipped") }
        throw XCTSkipFailure("\(key) is not set: run the server tests under scripts/with-test-servers.sh (make test does)")
    }

    /// A fresh folder name for one test's repository.
    static func uniqueName(_ label: String) -> String { "\(label)-\(UUID().uuidString.prefix(8).lowercased())" }
}

/// A missing server is a failure, not a skip.
struct XCTSkipFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
