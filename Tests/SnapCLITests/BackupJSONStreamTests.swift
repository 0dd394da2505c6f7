import Foundation
import XCTest
import SnapTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: `backup --json` is a stream of one JSON object per line with restic's message
/// types and field names, so a consumer written for restic reads it; errors are JSON too.
final class BackupJSONStreamTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("jsonstream")
        snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_REPOSITORY": "\(work)/repo", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/src/sub", withIntermediateDirectories: true)
        for (name, text) in [("a.txt", "a\n"), ("sub/b.txt", "bb\n")] {
            try text.write(toFile: "\(work)/src/\(name)", atomically: false, encoding: .utf8)
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    private func messages(_ text: String) throws -> [[String: Any]] { try jsonMessages(text) }

    // The status messages carry the scan's totals, and none with --no-scan (restic's
    // option); -f is --force, so the file is read again each time and status comes.
    func testNoScanLeavesTheTotalsOut() throws {
        try Data(seededBytes(count: 12 << 20, seed: 3)).write(to: URL(fileURLWithPath: "\(work)/src/big"))
        func statuses(_ extra: [String]) throws -> [[String: Any]] {
            let out = try snap.expect(0, ["--json", "backup", "\(work)/src", "-f", "--progress-interval", "0.05"] + extra).stdout
            return try messages(out).filter { $0["message_type"] as? String == "status" }
        }
        let scanned = try statuses([])
        XCTAssertFalse(scanned.isEmpty)
        XCTAssertEqual(scanned.last?["total_files"] as? Int, 3, "\(scanned.last ?? [:])")
        let unscanned = try statuses(["--no-scan"])
        XCTAssertFalse(unscanned.isEmpty)
        XCTAssertTrue(unscanned.allSatisfy { $0["total_files"] as? Int == 0 }, "\(unscanned)")
    }

    // A name with a newline is given exactly in backup's and restore's JSON `item` (JSON
    // escapes the control character), so it cannot be read as another name spelled `a\x0ab`.
    func testControlCharactersInItemsAreExact() throws {
        try "n".write(toFile: "\(work)/src/a\nb", atomically: false, encoding: .utf8)
        let backup = try messages(try snap.expect(0, ["--json", "-v", "backup", "\(work)/src"]).stdout)
        let items = Set(backup.compactMap { $0["item"] as? String })
        XCTAssertTrue(items.contains("\(work)/src/a\nb"), "\(items)")
        let restore = try messages(try snap.expect(0, ["--json", "-v", "restore", "latest", "--target", "\(work)/out"]).stdout)
        XCTAssertTrue(restore.contains { $0["item"] as? String == "\(work)/src/a\nb" }, "\(restore)")
    }

    // The fields a restic backup consumer reads, with their meaning.
    func testSummaryAndVerboseStatusUseResticNames() throws {
        let stream = try snap.expect(0, ["--json", "-v", "backup", "\(work)/src"]).stdout
        for line in stream.split(separator: "\n") where line.contains(#""verbose_status""#) { try assertCanonicalJSON(line) }
        let first = try messages(stream)
        let verbose = first.filter { $0["message_type"] as? String == "verbose_status" }
        let listedNew = Set(verbose.filter { $0["action"] as? String == "new" }.compactMap { $0["item"] as? String })
        XCTAssertTrue(listedNew.isSuperset(of: ["\(work)/src/a.txt", "\(work)/src/sub/b.txt", "\(work)/src/sub/", "\(work)/src/"]), "\(listedNew)")
        XCTAssertEqual(verbose.count, listedNew.count, "a first backup has only new items")
        XCTAssertEqual(verbose.first { $0["item"] as? String == "\(work)/src/sub/b.txt" }?["data_size"] as? Int, 3)
        XCTAssertEqual(verbose.first { $0["item"] as? String == "\(work)/src/sub/b.txt" }?["data_added"] as? Int, 3)
        let summary = try XCTUnwrap(first.last)
        XCTAssertEqual(summary["message_type"] as? String, "summary")
        XCTAssertEqual(summary["files_new"] as? Int, 2)
        XCTAssertEqual(summary["files_changed"] as? Int, 0)
        XCTAssertEqual(summary["files_unmodified"] as? Int, 0)
        XCTAssertEqual(summary["total_files_processed"] as? Int, 2)
        XCTAssertEqual(summary["total_bytes_processed"] as? Int, 5)
        XCTAssertEqual(summary["data_blobs"] as? Int, 2)
        XCTAssertGreaterThan(summary["tree_blobs"] as? Int ?? 0, 1)
        XCTAssertGreaterThan(summary["data_added_packed"] as? Int ?? 0, 0)
        XCTAssertEqual(summary["dry_run"] as? Bool, false)
        XCTAssertNotNil(summary["backup_start"] as? String)
        let id = try XCTUnwrap(summary["snapshot_id"] as? String)
        XCTAssertEqual(id.count, 64)

        try "changed\n".write(toFile: "\(work)/src/a.txt", atomically: false, encoding: .utf8)
        let second = try messages(try snap.expect(0, ["--json", "backup", "\(work)/src"]).stdout)
        XCTAssertFalse(second.contains { $0["message_type"] as? String == "verbose_status" }, "without -v: no listing")
        let s2 = try XCTUnwrap(second.last)
        XCTAssertEqual(s2["files_changed"] as? Int, 1)
        XCTAssertEqual(s2["files_unmodified"] as? Int, 1)
        XCTAssertEqual(s2["dirs_unmodified"] as? Int, 1, "sub/ did not change")
        XCTAssertGreaterThanOrEqual(s2["dirs_changed"] as? Int ?? 0, 1)
        let snapshots = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["snapshots", "--json"]).stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(snapshots.last?["id"] as? String, s2["snapshot_id"] as? String)
    }

    // Text mode: -v lists new and modified files with their size and the bytes they added
    // (restic's "added", which its dry-run recipe greps for), -vv unchanged ones too.
    func testVerboseTextListing() throws {
        let first = try snap.expect(0, ["backup", "-v", "\(work)/src"]).stdout
        XCTAssertTrue(first.contains("new       \(work)/src/sub/b.txt (3 B, 3 B added)"), first)
        try "changed\n".write(toFile: "\(work)/src/a.txt", atomically: false, encoding: .utf8)
        try "bb\n".write(toFile: "\(work)/src/copy.txt", atomically: false, encoding: .utf8)  // b.txt's content
        let dry = try snap.expect(0, ["backup", "-vv", "--dry-run", "\(work)/src"]).stdout
        XCTAssertEqual(dry.split(separator: "\n").filter { $0.contains("added") }.map { String($0.prefix(10)) }.sorted(),
                       ["modified  ", "new       "], "restic's `--dry-run -vv | grep added`: \(dry)")
        let second = try snap.expect(0, ["backup", "-v", "\(work)/src"]).stdout
        XCTAssertTrue(second.contains("modified  \(work)/src/a.txt (8 B, 8 B added)"), second)
        XCTAssertTrue(second.contains("new       \(work)/src/copy.txt (3 B, 0 B added)"), "its content was there: \(second)")
        XCTAssertFalse(second.contains("sub/b.txt"), second)
        let third = try snap.expect(0, ["backup", "-vv", "\(work)/src"]).stdout
        XCTAssertTrue(third.contains("unchanged \(work)/src/sub/b.txt"), third)
        let quiet = try snap.expect(0, ["backup", "-q", "\(work)/src"])
        XCTAssertEqual(quiet.stdout, "")
    }

    // Under --json an unreadable file is an `error` message on standard error naming the item; a fatal error is an `exit_error`.
    func testErrorsAreJSONMessages() throws {
        try "secret".write(toFile: "\(work)/src/unreadable.txt", atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod("\(work)/src/unreadable.txt", 0), 0)
        var prefix: [String] = []
        var runner = snap
        if getuid() == 0 {
            // Root reads anything: run snap as nobody, who can write this test's repository.
            try FileManager.default.createDirectory(atPath: "\(work)/cache", withIntermediateDirectories: true)
            XCTAssertEqual(try runTool("/bin/chown", ["-R", "65534:65534", "\(work)/repo", "\(work)/cache"]).status, 0)
            prefix = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
            runner = SnapProcess(environment: snap.environment.merging(["HOME": work]) { $1 })
        }
        let result = try runner.run(["--json", "backup", "\(work)/src"], prefix: prefix)
        XCTAssertEqual(result.status, 3, result.stderr)
        let errors = try messages(result.stderr)
        XCTAssertEqual(errors.count, 1, result.stderr)
        XCTAssertEqual(errors.first?["message_type"] as? String, "error")
        XCTAssertEqual(errors.first?["item"] as? String, "\(work)/src/unreadable.txt")
        XCTAssertEqual(errors.first?["during"] as? String, "archival")
        XCTAssertNotNil((errors.first?["error"] as? [String: Any])?["message"] as? String)
        XCTAssertEqual(try messages(result.stdout).last?["message_type"] as? String, "summary")

        let fatal = try snap.run(["--json", "snapshots"], extraEnvironment: ["SNAP_REPOSITORY": "\(work)/nothing"])
        XCTAssertEqual(fatal.status, 10)
        let exit = try XCTUnwrap(try messages(fatal.stderr).first)
        XCTAssertEqual(exit["message_type"] as? String, "exit_error")
        XCTAssertEqual(exit["code"] as? Int, 10)
        XCTAssertTrue((exit["message"] as? String ?? "").contains("snap init"), fatal.stderr)
    }

    // The progress moves inside one large file: status messages while it is read show bytes done rising below the total.
    func testStatusMovesInsideOneLargeFile() throws {
        let big = "\(work)/big/disk.img"
        try FileManager.default.createDirectory(atPath: "\(work)/big", withIntermediateDirectories: false)
        XCTAssertTrue(FileManager.default.createFile(atPath: big, contents: nil))
        XCTAssertEqual(truncate(big, 1 << 30), 0)
        let result = try snap.expect(0, ["--json", "--progress-interval", "0.1", "backup", "\(work)/big"])
        let status = try messages(result.stdout).filter { $0["message_type"] as? String == "status" }
        // While the file is read: some bytes done, not all (the last chunk is counted a
        // moment before the file is settled, so a message may show all bytes and no file).
        let during = status.filter { ($0["files_done"] as? Int) == 0 && (1..<(1 << 30)).contains($0["bytes_done"] as? Int ?? 0) }
        XCTAssertGreaterThanOrEqual(during.count, 2, "\(status)")
        let done = during.compactMap { $0["bytes_done"] as? Int }
        XCTAssertEqual(done, done.sorted())
        XCTAssertLessThan(done.first ?? 0, done.last ?? 0, "the bytes done moved")
        let percent = during.compactMap { $0["percent_done"] as? Double }
        XCTAssertTrue(percent.allSatisfy { $0 >= 0 && $0 < 1 }, "\(percent)")
        XCTAssertEqual(during.last?["current_files"] as? [String], [big])
    }
}

/// End-to-end: copy, check, dump and prune show progress where asked (a terminal, or
/// --progress-interval for logs), and --json status messages.
final class TaskProgressTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("taskprogress")
        snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_REPOSITORY": "\(work)/repo", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: true)
        let random = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: 48 << 20)
        try random.write(to: URL(fileURLWithPath: "\(work)/src/random.bin"))
        try snap.expect(0, ["backup", "-q", "\(work)/src"])
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    func testProgressLinesForLogsAndJSON() throws {
        try snap.expect(0, ["init", "-r", "\(work)/other"])
        let copy = try snap.expect(0, ["-r", "\(work)/other", "copy", "--from-repo", "\(work)/repo", "--from-password-command", "echo pw",
                                       "--progress-interval", "0.05"]).stdout
        XCTAssertTrue(copy.contains("] copying snapshot "), copy)
        XCTAssertFalse(copy.contains("\u{1b}["), "no terminal control without a terminal")
        let check = try snap.expect(0, ["--json", "--progress-interval", "0.05", "check", "--read-data"]).stdout
        let lines = try jsonMessages(check)
        XCTAssertEqual(lines.last?["message_type"] as? String, "summary")
        XCTAssertTrue(lines.dropLast().allSatisfy { $0["message_type"] as? String == "status" && $0["phase"] is String }, check)
        let dump = try snap.expect(0, ["dump", "latest", "\(work)/src/random.bin", "--target", "\(work)/out.bin", "--progress-interval", "0.02"]).stdout
        XCTAssertTrue(dump.contains("] writing \(work)/out.bin"), dump)
        XCTAssertEqual(try snap.expect(0, ["check", "--read-data"]).stdout.contains("\r"), false, "no progress without a terminal by default")
        // dump to a redirected standard output, with standard error on a terminal (script(1) gives it one):
        // the line goes to the terminal, the data to the file.
        let environment = snap.environment.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
        // (zip: deflating 48 MiB of random bytes takes long enough for the line to show.)
        let terminal = try runTool("/usr/bin/script", ["-q", "-e", "-c", "env \(environment) \(SnapProcess.binary) dump --archive zip latest \(work)/src > \(work)/piped.zip", "/dev/null"]).stdout
        XCTAssertTrue(terminal.contains("writing standard output"), terminal)
        XCTAssertFalse(terminal.contains("PK"), "no data on the terminal")
        let zip = try XCTUnwrap(FileManager.default.contents(atPath: "\(work)/piped.zip"))
        XCTAssertGreaterThan(zip.count, 48 << 20)
        XCTAssertFalse(String(decoding: zip.prefix(4096), as: UTF8.self).contains("writing standard output"), "no progress in the data")
    }
}
