import Foundation
import SnapTestSupport
import XCTest

/// Requests per backend: a line per backend with -v, a `requests` field in JSON summaries,
/// and few requests for commands that walk many folders (trees read by whole packs).
final class RequestReportTests: XCTestCase {
    private var work = ""
    private static let folders = 300

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("requests")
        for i in 0..<Self.folders {
            let folder = "\(work)/src/d\(i / 20)/e\(i % 20)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try "file \(i)\n".write(toFile: "\(folder)/f.txt", atomically: false, encoding: .utf8)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// The `requests` entries of the last `summary` line of a --json stream.
    private func requests(_ stdout: String) throws -> [[String: Any]] {
        let summary = try XCTUnwrap(try jsonMessages(stdout).last { $0["message_type"] as? String == "summary" }, stdout)
        return try XCTUnwrap(summary["requests"] as? [[String: Any]], "\(summary)")
    }

    // -v prints one line per backend at the end; --json summaries of backup, restore, check,
    // prune and copy carry `requests`.
    func testVerboseLineAndJSONSummary() throws {
        let repository = "\(work)/repo"
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": repository, "SNAP_PASSWORD": "requests pw"])
        try snap.expect(0, ["init"])
        let backup = try snap.expect(0, ["backup", "\(work)/src", "-v"])
        let line = try XCTUnwrap(backup.stderr.split(separator: "\n").first { $0.hasPrefix("requests to ") }, backup.stderr)
        XCTAssertTrue(line.contains(repository), String(line))
        XCTAssertTrue(line.contains(" writes (") && line.contains(" reads (") && line.contains(" lists"), String(line))

        let quiet = try snap.expect(0, ["snapshots"])
        XCTAssertFalse(quiet.stderr.contains("requests to "), "only with -v")

        let backupJSON = try requests(try snap.expect(0, ["backup", "\(work)/src", "--json"]).stdout)
        XCTAssertEqual(backupJSON.count, 1)
        XCTAssertEqual(backupJSON.first?["backend"] as? String, "local:\(repository)")
        XCTAssertGreaterThan(backupJSON.first?["writes"] as? Int ?? 0, 0)
        XCTAssertGreaterThan(backupJSON.first?["bytes_written"] as? Int ?? 0, 0)

        for arguments in [["check", "--json"], ["restore", "latest", "--target", "\(work)/out", "--json"], ["prune", "--json"]] {
            let counts = try requests(try snap.expect(0, arguments).stdout)
            XCTAssertEqual(counts.count, 1, "\(arguments)")
            XCTAssertGreaterThan(counts.first?["reads"] as? Int ?? 0, 0, "\(arguments)")
            let total = ["reads", "lists", "writes", "deletes", "stats"].reduce(0) { $0 + (counts.first?[$1] as? Int ?? 0) }
            XCTAssertEqual(counts.first?["total"] as? Int, total, "\(arguments)")
        }
        let check = try snap.expect(0, ["check", "-v"])
        XCTAssertTrue(check.stderr.contains("requests to local:\(repository): "), check.stderr)
    }

    // On the real S3 server, check (with and without the cache) and restore of 300 folders
    // read their trees in a handful of requests, not one per folder.
    func testS3CheckAndRestoreReadFewRequests() throws {
        let endpoint = try serverSetting("S3_ENDPOINT")
        let bucket = "snap-requests-\(UUID().uuidString.prefix(8).lowercased())"
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "s3:\(endpoint)/\(bucket)/repo", "SNAP_PASSWORD": "requests pw",
                                             "XDG_CACHE_HOME": "\(work)/xdg"])
        try snap.expect(0, ["init"])
        try snap.expect(0, ["backup", "\(work)/src", "-q"])
        func reads(_ arguments: [String]) throws -> Int {
            let counts = try requests(try snap.expect(0, arguments + ["--json"]).stdout)
            XCTAssertEqual(counts.count, 1)
            return counts.first?["reads"] as? Int ?? .max
        }
        // config, a key, the snapshot, index files, the tree pack(s): well below 300 folders.
        let uncached = try reads(["check", "--no-cache"])
        XCTAssertLessThanOrEqual(uncached, 15)
        // The backup left its tree pack in the cache: check reads it from there.
        let cached = try reads(["check"])
        XCTAssertLessThan(cached, uncached, "check reads the tree pack from the cache")
        XCTAssertLessThanOrEqual(try reads(["restore", "latest", "--target", "\(work)/out", "--no-cache"]), 15 + Self.folders / 20)
    }
}
