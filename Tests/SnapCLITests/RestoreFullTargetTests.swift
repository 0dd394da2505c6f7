import Foundation
import XCTest

/// End-to-end: a restore onto a file system that fills up ends with one line saying so.
final class RestoreFullTargetTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("full")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: false)
        var generator = SystemRandomNumberGenerator()
        for i in 0..<40 {
            let bytes = (0..<(120_000 + i * 500)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try Data(bytes).write(to: URL(fileURLWithPath: "\(work)/src/f\(i).bin"))
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    private func tool(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func testRestoreOntoFullFileSystemEndsWithOneLine() throws {
        try snap.expect(0, ["backup", "-q", "\(work)/src"])
        let target = "\(work)/small"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        guard try tool("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", target]) == 0 else {
            throw XCTSkip("cannot mount a 2 MiB tmpfs (needs root and mount permission)")
        }
        defer { _ = try? tool("/bin/umount", [target]) }

        let result = try snap.run(["restore", "--target", target])
        XCTAssertEqual(result.status, 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 1, result.stderr)
        let line = try XCTUnwrap(lines.first)
        XCTAssertTrue(line.hasPrefix("snap: restore stopped: no space left on device writing \(target)/"), line)
        XCTAssertTrue(line.hasSuffix("(target file system \(target)); nothing in the repository is damaged"), line)
        XCTAssertTrue(result.stdout.contains("\nrestore incomplete: "), result.stdout)
        XCTAssertFalse(result.stdout.contains("\nrestored "), result.stdout)
    }
}
