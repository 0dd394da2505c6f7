import Foundation
import XCTest

/// End-to-end: `restore --at TIME` picks the newest snapshot at or before TIME, after filters.
final class PointInTimeTests: XCTestCase {
    /// Snapshots of one file at known times; --at restores the version current at that time.
    func testRestoreAtTime() throws {
        let work = try makeTemporaryFolder("at")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/data", withIntermediateDirectories: false)
        let versions = [("2024-01-01T10:00:00Z", "version one"), ("2024-02-01T10:00:00Z", "version two"),
                        ("2024-03-01T10:00:00+02:00", "version three")]
        for (time, text) in versions {
            try text.write(toFile: "\(work)/data/file.txt", atomically: false, encoding: .utf8)
            try snap.expect(0, ["backup", "\(work)/data", "--time", time, "--host", "alpha"])
        }
        try "other host".write(toFile: "\(work)/data/file.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", "\(work)/data", "--time", "2024-01-20T00:00:00Z", "--host", "beta"])

        func restored(at: String, _ extra: [String] = []) throws -> String {
            let target = "\(work)/out-\(UUID().uuidString.prefix(8))"
            try snap.expect(0, ["restore", "--at", at, "--target", target] + extra)
            return try String(contentsOfFile: "\(target)\(work)/data/file.txt", encoding: .utf8)
        }
        XCTAssertEqual(try restored(at: "2024-01-15T00:00:00Z", ["--host", "alpha"]), "version one")
        XCTAssertEqual(try restored(at: "2024-02-15T00:00:00Z", ["--host", "alpha"]), "version two")
        // Version three was taken at 08:00 UTC on 1 March: one second earlier is still version two.
        XCTAssertEqual(try restored(at: "2024-03-01T07:59:59Z", ["--host", "alpha"]), "version two")
        XCTAssertEqual(try restored(at: "2024-03-01T08:00:00Z", ["--host", "alpha"]), "version three")
        XCTAssertEqual(try restored(at: "2024-01-25T00:00:00Z"), "other host")
        XCTAssertEqual(try restored(at: "2030-01-01T00:00:00Z", ["--host", "beta"]), "other host")

        let early = try snap.run(["restore", "--at", "2023-12-31T00:00:00Z", "--target", "\(work)/none"])
        XCTAssertEqual(early.status, 1)
        XCTAssertTrue(early.stderr.contains("no snapshot"), early.stderr)
    }

    /// A snapshot is found by a unique ID prefix; an ambiguous or unknown prefix is an error.
    func testSnapshotByPrefix() throws {
        let work = try makeTemporaryFolder("prefix")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw"])
        try snap.expect(0, ["init"])
        try "x".write(toFile: "\(work)/x", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", "\(work)/x", "--time", "2024-05-05T05:05:05.123456789Z"])
        let list = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["snapshots", "--json"]).stdout.utf8)) as? [[String: Any]])
        let id = try XCTUnwrap(list.first?["id"] as? String)
        XCTAssertEqual(list.first?["short_id"] as? String, String(id.prefix(8)))
        XCTAssertEqual(list.first?["time"] as? String, "2024-05-05T05:05:05.123456789Z")
        for key in ["hostname", "username", "paths", "tags", "parent", "tree"] { XCTAssertTrue(list.first?.keys.contains(key) ?? false, key) }
        try snap.expect(0, ["restore", String(id.prefix(6)), "--target", "\(work)/out"])
        XCTAssertEqual(try String(contentsOfFile: "\(work)/out\(work)/x", encoding: .utf8), "x")
        XCTAssertEqual(try snap.run(["restore", "ffffffffffff", "--target", "\(work)/o2"]).status, 1)
    }
}
