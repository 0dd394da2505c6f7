import Foundation
import XCTest

/// End-to-end: `snap cache` lists this machine's cache folders and removes old ones, as
/// restic's `cache` does; restic's other command names and `--cleanup-cache` work in scripts.
final class CacheCommandTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("cache-command")
        snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_REPOSITORY": "\(work)/repo", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init", "-q"])
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: false)
        try "content\n".write(toFile: "\(work)/src/a", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", "-q", "\(work)/src"])
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// The repository's own cache folder, and one of another repository last used 40 days ago.
    private func folders() throws -> (used: String, old: String) {
        let used = try FileManager.default.contentsOfDirectory(atPath: "\(work)/cache").filter { $0.count == 64 }
        XCTAssertEqual(used.count, 1, "\(used)")
        let old = String(repeating: "ab", count: 32)
        try FileManager.default.createDirectory(atPath: "\(work)/cache/\(old)/index", withIntermediateDirectories: true)
        try Data(repeating: 7, count: 5000).write(to: URL(fileURLWithPath: "\(work)/cache/\(old)/index/x"))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-40 * 86_400)], ofItemAtPath: "\(work)/cache/\(old)")
        return (try XCTUnwrap(used.first), old)
    }

    func testListsFoldersWithAgeAndSize() throws {
        let (used, old) = try folders()
        let lines = try snap.expect(0, ["cache"]).stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, "\(lines)")
        XCTAssertTrue(lines[1].hasPrefix(used) && lines[1].contains("today") && !lines[1].contains("yes"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix(old) && lines[2].contains("40 days ago") && lines[2].contains("yes  4.88 KiB"), lines[2])
        XCTAssertEqual(lines[3], "2 cache folders in \(work)/cache")
        let json = try snap.expect(0, ["cache", "--json", "--max-age", "50"]).stdout
        let entries = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        XCTAssertEqual(entries.map { $0["repository_id"] as? String }, [used, old])
        XCTAssertEqual(entries.map { $0["old"] as? Bool }, [false, false], "40 days is not old with --max-age 50")
        XCTAssertEqual(entries[1]["size"] as? Int, 5000)
        let noSize = try snap.expect(0, ["cache", "--no-size"]).stdout
        XCTAssertFalse(noSize.contains("KiB"), noSize)
    }

    func testCleanupRemovesOnlyOldFolders() throws {
        let (used, old) = try folders()
        let kept = try snap.expect(0, ["cache", "--cleanup", "--max-age", "45"]).stdout
        XCTAssertTrue(kept.contains("removed 0 cache folders unused for 45 days"), kept)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(work)/cache/\(old)"))
        let removed = try snap.expect(0, ["cache", "--cleanup", "--max-age", "35"]).stdout
        XCTAssertTrue(removed.contains("removed 1 cache folder unused for 35 days from \(work)/cache (4.88 KiB)"), removed)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/cache/\(old)"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(work)/cache/\(used)"))
        try snap.expect(0, ["snapshots", "-q"])
        let off = try snap.run(["--no-cache", "cache"])
        XCTAssertEqual(off.status, 1, off.stderr)
        XCTAssertTrue(off.stderr.contains("--no-cache"), off.stderr)
    }

    // Only folders are removed, never files or symlinks named so, and nothing from a
    // repository given by mistake as the cache folder (its snapshots/ and keys/ hold files
    // named by 64 hex digits).
    func testCleanupRemovesOnlyCacheFolders() throws {
        let old = Date().addingTimeInterval(-40 * 86_400)
        let file = "\(work)/cache/" + String(repeating: "cd", count: 32), link = "\(work)/cache/" + String(repeating: "ef", count: 32)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "\(work)/src")
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: file)
        try snap.expect(0, ["cache", "--cleanup", "--max-age", "0"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: file))
        XCTAssertNotNil(try? FileManager.default.destinationOfSymbolicLink(atPath: link))
        for folder in ["snapshots", "keys", "keys/.", "data"] {
            let before = try FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/\(folder)").sorted()
            for name in before { try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: "\(work)/repo/\(folder)/\(name)") }
            try snap.expect(0, ["cache", "--cleanup", "--max-age", "0", "--cache-dir", "\(work)/repo/\(folder)"])
            let listed = try snap.run(["snapshots", "-q", "--cache-dir", "\(work)/repo/\(folder)"])
            XCTAssertEqual(listed.status, 0, listed.stderr)
            XCTAssertTrue(listed.stderr.contains("is a repository or one of its folders; going on without a cache"), listed.stderr)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/\(folder)").sorted(), before)
        }
        // A repository named by 64 hex digits in a cache root is not a cache folder.
        let kept = "\(work)/cache/" + String(repeating: "9", count: 64)
        try snap.expect(0, ["init", "-q", "-r", kept])
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: kept)
        try snap.expect(0, ["cache", "--cleanup", "--max-age", "0"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(kept)/config"))
        // A one-letter relative cache folder (Foundation's path functions trapped on it).
        let relative = try snap.run(["snapshots", "-q", "--cache-dir", "Q"], prefix: ["/bin/sh", "-c", "cd '\(work)' && exec \"$0\" \"$@\""])
        XCTAssertEqual(relative.status, 0, relative.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(work)/Q/CACHEDIR.TAG"))
        let notFolder = try snap.run(["cache", "--cache-dir", "\(work)/src/a"])
        XCTAssertEqual(notFolder.status, 1, notFolder.stderr)
        XCTAssertTrue(notFolder.stderr.contains("cannot list the cache folder \(work)/src/a: it is not a folder"), notFolder.stderr)
    }

    func testResticCommandNamesAndCleanupCacheFlag() throws {
        let rebuild = try snap.expect(0, ["rebuild-index"]).stdout
        XCTAssertTrue(rebuild.contains("index"), rebuild)
        try snap.expect(0, ["--cleanup-cache", "snapshots", "-q"])
        try snap.expect(0, ["snapshots", "--cleanup-cache", "-q"])
        for (word, text) in [("migrate", "need no migration"), ("self-update", "the way it was installed")] {
            let result = try snap.run([word])
            XCTAssertEqual(result.status, 64, result.stderr)
            XCTAssertTrue(result.stderr.contains("there is no \"\(word)\" command: ") && result.stderr.contains(text), result.stderr)
        }
    }
}
