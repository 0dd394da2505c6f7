import Foundation
import XCTest

/// Runs the built `snap` binary: `$SNAP_BINARY` when set (the Makefile points it at the
/// release build), otherwise the debug build next to the test bundle.
struct SnapProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    let environment: [String: String]

    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["SNAP_BINARY"], !path.isEmpty { return path }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".build/debug/snap").path
    }

    /// Runs `snap ARGS` with the repository environment, and no standard input.
    @discardableResult
    func run(_ arguments: [String], prefix: [String] = [], extraEnvironment: [String: String] = [:]) throws -> Result {
        let process = Process()
        if prefix.isEmpty {
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: prefix[0])
            process.arguments = Array(prefix.dropFirst()) + [Self.binary] + arguments
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SNAP_") }
        env.merge(environment) { $1 }
        env.merge(extraEnvironment) { $1 }
        env["TZ"] = env["TZ"] ?? "UTC"  // snapshot times print in the local zone; keep expectations stable
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently so that neither can fill up and block the child.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs and fails the test unless the exit status is `expected`.
    @discardableResult
    func expect(_ expected: Int32, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let result = try run(arguments)
        XCTAssertEqual(result.status, expected, "snap \(arguments.joined(separator: " ")) → \(result.status)\nstdout: \(result.stdout)\nstderr: \(result.stderr)", file: file, line: line)
        return result
    }
}

/// A fresh folder under /tmp (or `parent`), removed by `cleanUp`.
func makeTemporaryFolder(_ label: String, in parent: String = "/tmp") throws -> String {
    let path = "\(parent)/snap-test-\(label)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    return path
}

/// A setting of the test servers that scripts/with-test-servers.sh exports (`S3_ENDPOINT`,
/// `REST_URL`, …). Skips the test when SNAP_SKIP_SERVER_TESTS=1; otherwise a missing
/// setting fails it, so that server tests never pass by not running.
func serverSetting(_ key: String) throws -> String {
    let env = ProcessInfo.processInfo.environment
    if let value = env[key], !value.isEmpty { return value }
    if env["SNAP_SKIP_SERVER_TESTS"] == "1" { throw XCTSkip("server tests skipped") }
    throw ServerMissing(key: key)
}

/// A test-server setting that is not there: the tests were not started by the servers' script.
struct ServerMissing: Error, CustomStringConvertible {
    let key: String
    var description: String { "\(key) is not set: run under scripts/with-test-servers.sh (make test does)" }
}

/// Each line of a `--json` stream as an object; fails the test on a line that is not one.
func jsonMessages(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
    try text.split(separator: "\n").map { row in
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any], "not a JSON object: \(row)", file: file, line: line)
    }
}

/// The node lines of `snap ls --json` output (one JSON object a line, the snapshot first).
func lsNodes(_ stdout: String) throws -> [[String: Any]] {
    try stdout.split(separator: "\n").compactMap { line in
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }.filter { $0["message_type"] as? String == "node" }
}

/// Fails unless `line` is exactly Foundation's serialization of its own value with sorted
/// keys: keys in byte order, Foundation's escapes and numbers (for lines snap writes
/// without `JSONEncoder`).
func assertCanonicalJSON(_ line: Substring, file: StaticString = #filePath, line number: UInt = #line) throws {
    let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
    let canonical = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    XCTAssertEqual(String(line), String(decoding: canonical, as: UTF8.self), file: file, line: number)
}
