import Foundation
import XCTest

/// End-to-end: a key file demanding more scrypt memory than allowed is skipped and named.
final class KeyLimitTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("keylimit")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "right"])
        try snap.expect(0, ["init"])
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// Writes a key file needing 16 GiB (N = 2^24, r = 8) under its SHA-256; returns its short name.
    private func plantKey() throws -> String {
        var generator = SystemRandomNumberGenerator()
        func random(_ count: Int) -> String {
            Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
        }
        let json = """
            {"created":"2025-01-01T00:00:00Z","data":"\(random(125))","hostname":"x","kdf":"scrypt",\
            "n":16777216,"p":1,"r":8,"salt":"\(random(32))","username":"y","version":1}
            """
        let staged = "\(work)/planted"
        try Data(json.utf8).write(to: URL(fileURLWithPath: staged))
        let name = try sha256(staged)
        try FileManager.default.moveItem(atPath: staged, toPath: "\(work)/repo/keys/\(name)")
        return "keys/\(name.prefix(8))"
    }

    /// The SHA-256 of a file, in hex, from coreutils (the tests drive the binary only).
    private func sha256(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }

    func testPlantedKeyIsSkippedAndNamed() throws {
        let planted = try plantKey()
        let expected = "\(planted) skipped: needs 16 GiB for scrypt (N=2^24, r=8), above the 1 GiB limit; raise it with --max-key-memory"

        let opened = try snap.run(["snapshots"])
        XCTAssertEqual(opened.status, 0, opened.stderr)
        XCTAssertEqual(opened.stderr, "warning: \(expected)\n")

        let wrong = try snap.run(["snapshots"], extraEnvironment: ["SNAP_PASSWORD": "wrong"])
        XCTAssertEqual(wrong.status, 12, "restic's code for a wrong password")
        let lines = wrong.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, wrong.stderr)
        XCTAssertEqual(lines.first, "warning: \(expected)")
        XCTAssertTrue(lines.last?.hasPrefix("snap: wrong password, or no key in ") == true, wrong.stderr)
        XCTAssertTrue(lines.last?.contains("skipped 1 key file: \(planted) (needs 16 GiB") == true, wrong.stderr)

        // -q: a key only above this machine's limit goes unmentioned; a damaged file in keys/ does not.
        XCTAssertEqual(try snap.run(["snapshots", "-q"]).stderr, "")
        let garbage = "\(work)/garbage"
        try Data("not a key".utf8).write(to: URL(fileURLWithPath: garbage))
        let name = try sha256(garbage)
        try FileManager.default.moveItem(atPath: garbage, toPath: "\(work)/repo/keys/\(name)")
        let quiet = try snap.run(["snapshots", "-q"])
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertTrue(quiet.stderr.contains("keys/\(name.prefix(8)) skipped: damaged"), quiet.stderr)
        XCTAssertFalse(quiet.stderr.contains(planted), quiet.stderr)

        let badSize = try snap.run(["snapshots"], extraEnvironment: ["SNAP_MAX_KEY_MEMORY": "lots"])
        XCTAssertEqual(badSize.status, 1)
        XCTAssertTrue(badSize.stderr.contains("SNAP_MAX_KEY_MEMORY must be a size"), badSize.stderr)
    }
}
