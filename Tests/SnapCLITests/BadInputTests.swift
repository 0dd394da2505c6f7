import Foundation
import XCTest

/// End-to-end: input snap used to accept, or misreport, is refused with exit 64 and a
/// first line that names the option and what is wrong; nothing is written.
final class BadInputTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("badinput")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "right"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: false)
        try "content\n".write(toFile: "\(work)/src/a.txt", atomically: false, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// Runs `arguments`, expects a usage error whose first line contains every one of `texts`,
    /// and that the repository is unchanged.
    private func expectUsageError(_ arguments: [String], _ texts: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let before = repositoryFiles()
        let result = try snap.run(arguments)
        XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)", file: file, line: line)
        let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        for text in texts { XCTAssertTrue(first.contains(text), "\(arguments): \(result.stderr)", file: file, line: line) }
        XCTAssertEqual(repositoryFiles(), before, "\(arguments) wrote to the repository", file: file, line: line)
    }

    func testInvalidPatternsAreNamed() throws {
        try expectUsageError(["backup", "--exclude", "[", "\(work)/src"], ["--exclude", "pattern '['", "not closed"])
        try expectUsageError(["backup", "--exclude", "*.o", "--exclude", "[a-", "\(work)/src"], ["pattern '[a-'"])
        try expectUsageError(["backup", "--exclude", "", "\(work)/src"], ["pattern ''", "empty"])
        try expectUsageError(["backup", "--iexclude", "*[._]log[.-][0-9]", "\(work)/src"], ["--iexclude", "'*[._]log[.-][0-9]'"])
        try snap.expect(0, ["backup", "--exclude", "[[:digit:]]*", "--exclude", "\\[x\\]", "\(work)/src"])
        try expectUsageError(["restore", "--target", "\(work)/out", "--include", "[]"], ["--include", "'[]'"])
        try expectUsageError(["restore", "--target", "\(work)/out", "--exclude", "x\\"], ["--exclude", "pattern 'x\\'"])
        // Pattern files: a bad line names the file; a file that cannot be read is one clear line.
        try "ok\n  [bad  \n".write(toFile: "\(work)/excludes", atomically: false, encoding: .utf8)
        try expectUsageError(["backup", "--exclude-file", "\(work)/excludes", "\(work)/src"], ["--exclude-file \(work)/excludes", "'[bad'"])
        try expectUsageError(["backup", "--exclude-file", "\(work)/missing", "\(work)/src"], ["--exclude-file", "\(work)/missing"])
        try expectUsageError(["restore", "--target", "\(work)/out", "--iinclude-file", "\(work)/missing"], ["--iinclude-file"])
        try expectUsageError(["rewrite", "--exclude-file", "\(work)/missing"], ["--exclude-file"])
        try expectUsageError(["backup", "--exclude-file", "-", "\(work)/src"], ["--exclude-file", "for standard input, give /dev/stdin"])
        try expectUsageError(["backup", "--exclude-larger-than", "12q", "\(work)/src"], ["--exclude-larger-than", "'12q'"])
        try expectUsageError(["backup", "--exclude-if-present", ":x", "\(work)/src"], ["--exclude-if-present"])
    }

    func testCompressionLevelsFollowZstdsRange() throws {
        // Negative levels are values, not options, in both commands that take --compression.
        try snap.expect(0, ["init", "--repo", "\(work)/fast", "--compression", "-5"])
        try snap.expect(0, ["backup", "--compression", "-5", "\(work)/src"])
        try snap.expect(0, ["backup", "--compression=-131072", "\(work)/src"])
        let config = try snap.expect(0, ["cat", "config", "--repo", "\(work)/fast"]).stdout
        XCTAssertTrue(config.contains("\"level\":-5") || config.contains("\"level\" : -5"), config)
        for command in [["init", "--repo", "\(work)/other"], ["backup", "\(work)/src"]] {
            try expectUsageError(command + ["--compression", "23"], ["--compression", "23", "-131072…22"])
            try expectUsageError(command + ["--compression", "-131073"], ["-131073", "-131072…22"])
            try expectUsageError(command + ["--compression", "fast"], ["--compression", "'fast' is not a whole number", "or auto, max or off"])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/other"))
    }

    func testUnknownOptionIsNamedBeforeOtherProblems() throws {
        try expectUsageError(["forget", "--bogus"], ["Unknown option '--bogus'"])
        try expectUsageError(["forget", "--keep-last", "1", "--bogus"], ["Unknown option '--bogus'"])
        try expectUsageError(["forget", "abc", "--bogus"], ["Unknown option '--bogus'"])
        // The checks it used to hide still apply, with the command's usage.
        let result = try snap.run(["forget", "--unsafe-allow-remove-all"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.hasPrefix("Error: --unsafe-allow-remove-all is not allowed unless"), result.stderr)
        XCTAssertTrue(result.stderr.contains("Usage: snap forget"), result.stderr)
        try expectUsageError(["forget", "abc", "--keep-last", "1"], ["snapshot IDs cannot be combined"])
    }

    func testEmptyHostIsRefused() throws {
        try expectUsageError(["backup", "--host", "", "\(work)/src"], ["--host must not be empty"])
        try expectUsageError(["backup", "--host", " ", "\(work)/src"], ["--host must not be empty"])
        try expectUsageError(["snapshots", "--host", ""], ["--host must not be empty"])
        try expectUsageError(["forget", "--host", "", "--keep-last", "1"], ["--host must not be empty"])
        try expectUsageError(["restore", "--target", "\(work)/out", "--host", ""], ["--host must not be empty"])
    }

    func testImpossibleTimesAreRefused() throws {
        for time in ["0000-01-01T00:00:00Z", "0000-06-01", "2024-01-01T12:00:60Z", "2024-01-01 12:00:60"] {
            try expectUsageError(["backup", "--time", time, "\(work)/src"], ["--time '\(time)' is not a date and time"])
            try expectUsageError(["restore", "--target", "\(work)/out", "--at", time], ["--at '\(time)' is not a date and time"])
        }
        try snap.expect(0, ["backup", "--time", "2024-01-01T12:00:59Z", "\(work)/src"])
    }

    private func repositoryFiles() -> [String] {
        (FileManager.default.enumerator(atPath: "\(work)/repo")?.compactMap { $0 as? String } ?? []).sorted()
    }
}
