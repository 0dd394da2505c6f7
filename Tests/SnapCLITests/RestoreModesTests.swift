import Foundation
import XCTest
import SnapTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: `restore --overwrite/--delete/--dry-run/--verify` on a target that already
/// holds a restore, their counts in text and JSON, and the input they refuse.
final class RestoreModesTests: XCTestCase {
    var work = ""
    var source = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("restore-modes")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "modes"])
        try snap.expect(0, ["init"])
        source = "\(work)/src"
        try FileManager.default.createDirectory(atPath: "\(source)/a", withIntermediateDirectories: true)
        try "x\n".write(toFile: "\(source)/a/x.txt", atomically: false, encoding: .utf8)
        try "y\n".write(toFile: "\(source)/a/y.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", source])
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    private func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    /// What `lstat` (or `stat`, `following`) says of a path, the parts these tests compare.
    private struct FileSystemStat {
        let mode: mode_t, mtime: Int, links: UInt, isRegularFile: Bool
        static func of(_ path: String, following: Bool = true) throws -> FileSystemStat {
            var st = stat()
            guard (following ? stat(path, &st) : lstat(path, &st)) == 0 else { throw CocoaError(.fileNoSuchFile) }
            return FileSystemStat(mode: st.st_mode & 0o7777, mtime: st.st_mtim.tv_sec, links: UInt(st.st_nlink),
                                  isRegularFile: st.st_mode & S_IFMT == S_IFREG)
        }
    }

    // As a user other than root, a restore into an earlier restore of folders the owner may
    // not fill (read-only, 555; without search permission, 644) opens them while it fills
    // them, as the first restore did, and gives them their modes back.
    func testRestoringAgainAsTheOwnerIntoClosedFolders() throws {
        guard geteuid() == 0, access("/usr/bin/setpriv", X_OK) == 0 else { throw XCTSkip("needs root (to become another user) and setpriv") }
        for folder in ["ro", "nox"] {
            try FileManager.default.createDirectory(atPath: "\(source)/\(folder)", withIntermediateDirectories: false)
            try "in \(folder)\n".write(toFile: "\(source)/\(folder)/f", atomically: false, encoding: .utf8)
        }
        XCTAssertEqual(chmod("\(source)/ro", 0o555), 0)
        XCTAssertEqual(chmod("\(source)/nox", 0o644), 0)
        try snap.expect(0, ["backup", source])
        XCTAssertEqual(try runTool("/bin/chown", ["-R", "65534:65534", "\(work)/repo"]).status, 0)
        try FileManager.default.createDirectory(atPath: "\(work)/target", withIntermediateDirectories: false)
        XCTAssertEqual(chown("\(work)/target", 65534, 65534), 0)
        let asNobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/env", "HOME=\(work)/target",
                        "SNAP_CACHE_DIR=\(work)/target/.cache"]
        guard try snap.run(["version"], prefix: asNobody).status == 0 else { throw XCTSkip("the snap binary is not reachable by another user here") }
        let restore = ["restore", "latest", "--target", "\(work)/target"]
        for overwrite in ["if-changed", "if-changed", "always"] {
            let result = try snap.run(restore + ["--overwrite", overwrite], prefix: asNobody)
            XCTAssertEqual(result.status, 0, "\(overwrite): \(result.stderr)")
        }
        let restored = "\(work)/target\(source)"
        XCTAssertEqual(read("\(restored)/ro/f"), "in ro\n")
        var info = stat()
        XCTAssertEqual(stat("\(restored)/ro", &info), 0)
        XCTAssertEqual(info.st_mode & 0o7777, 0o555)
        XCTAssertEqual(stat("\(restored)/nox", &info), 0)
        XCTAssertEqual(info.st_mode & 0o7777, 0o644)
        XCTAssertEqual(try runTool("/bin/chmod", ["-R", "u+rwx", "\(work)/target"]).status, 0)  // so that tearDown can remove it
        XCTAssertEqual(read("\(restored)/nox/f"), "in nox\n")
    }

    /// The `summary`: the last line of a JSON stream.
    private func json(_ stdout: String) throws -> [String: Any] {
        let summary = try XCTUnwrap(try jsonMessages(stdout).last)
        XCTAssertEqual(summary["message_type"] as? String, "summary")
        return summary
    }

    func testDryRunThenDeleteAndVerify() throws {
        let out = "\(work)/out"
        try snap.expect(0, ["restore", "latest", "--target", out])
        try "changed, longer\n".write(toFile: "\(out)\(source)/a/x.txt", atomically: false, encoding: .utf8)
        try "extra\n".write(toFile: "\(out)\(source)/a/extra.txt", atomically: false, encoding: .utf8)
        try "beside\n".write(toFile: "\(out)\(work)/beside.txt", atomically: false, encoding: .utf8)

        let dry = try snap.expect(0, ["restore", "latest", "--target", out, "--delete", "--dry-run", "-v"]).stdout
        XCTAssertTrue(dry.contains("updated \(source)/a/x.txt\n"), dry)
        XCTAssertTrue(dry.contains("unchanged \(source)/a/y.txt\n"), dry)
        XCTAssertTrue(dry.contains("deleted \(source)/a/extra.txt\n"), dry)
        XCTAssertFalse(dry.contains("beside"), dry)
        XCTAssertTrue(dry.contains("would restore 1 files"), dry)
        XCTAssertEqual(read("\(out)\(source)/a/x.txt"), "changed, longer\n", "a dry run writes nothing")
        XCTAssertEqual(read("\(out)\(source)/a/extra.txt"), "extra\n", "a dry run deletes nothing")

        let real = try json(try snap.expect(0, ["restore", "latest", "--target", out, "--delete", "--verify", "--json"]).stdout)
        XCTAssertEqual(real["complete"] as? Bool, true)
        XCTAssertEqual(real["updated"] as? Int, 1)
        XCTAssertEqual(real["unchanged"] as? Int, 1)
        XCTAssertEqual(real["deleted"] as? Int, 1)
        XCTAssertEqual(real["verified"] as? Int, 1)
        // restic's restore summary fields.
        XCTAssertEqual(real["files_restored"] as? Int, 1)
        XCTAssertEqual(real["files_skipped"] as? Int, 1)
        XCTAssertEqual(real["files_deleted"] as? Int, 1)
        XCTAssertEqual(real["total_files"] as? Int, 2)
        XCTAssertEqual(real["bytes_restored"] as? Int, 2)
        XCTAssertEqual(read("\(out)\(source)/a/x.txt"), "x\n")
        XCTAssertNil(read("\(out)\(source)/a/extra.txt"))
        XCTAssertEqual(read("\(out)\(work)/beside.txt"), "beside\n", "beside the backed-up path: kept")

        try "mine\n".write(toFile: "\(out)\(source)/a/x.txt", atomically: false, encoding: .utf8)
        let never = try snap.expect(0, ["restore", "latest", "--target", out, "--overwrite", "never"]).stdout
        XCTAssertTrue(never.contains("0 updated, 0 unchanged, 2 skipped"), never)
        XCTAssertEqual(read("\(out)\(source)/a/x.txt"), "mine\n")

        // SNAPSHOT:subfolder inside the backed-up path: the whole target is below it.
        let sub = "\(work)/sub"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        try "extra\n".write(toFile: "\(sub)/extra.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["restore", "latest:\(source)/a", "--target", sub, "--delete"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: sub).sorted(), ["x.txt", "y.txt"])
    }

    /// A symlink in the target where the snapshot has a folder never leads the restore outside.
    // --json -v: one verbose_status per entry with restic's actions, status messages while it runs, a summary at the end.
    func testJSONStream() throws {
        let out = "\(work)/out"
        let stream = try snap.expect(0, ["--json", "-v", "--progress-interval", "0.05", "restore", "latest", "--target", out]).stdout
        let messages = try jsonMessages(stream)
        let verbose = messages.filter { $0["message_type"] as? String == "verbose_status" }
        XCTAssertEqual(verbose.first { $0["item"] as? String == "\(source)/a/x.txt" }?["action"] as? String, "restored")
        XCTAssertEqual(verbose.first { $0["item"] as? String == "\(source)/a/x.txt" }?["size"] as? Int, 2)
        XCTAssertTrue(verbose.contains { $0["item"] as? String == "\(source)/a/" }, "folders end in /")
        for line in stream.split(separator: "\n") where line.contains(#""verbose_status""#) { try assertCanonicalJSON(line) }
        XCTAssertEqual(messages.last?["message_type"] as? String, "summary")
        XCTAssertTrue(messages.dropLast().allSatisfy { ["status", "verbose_status"].contains($0["message_type"] as? String) }, stream)
        let again = try json(try snap.expect(0, ["--json", "restore", "latest", "--target", out]).stdout)
        XCTAssertEqual(again["files_skipped"] as? Int, 2, "unchanged files count as skipped, as in restic")
        XCTAssertEqual(again["bytes_skipped"] as? Int, 4)
        XCTAssertEqual(again["files_restored"] as? Int, 0)
    }

    func testSymlinkInTargetIsReplacedNotFollowed() throws {
        let out = "\(work)/out"
        let outside = "\(work)/outside"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
        let first = try XCTUnwrap(source.split(separator: "/").first)
        XCTAssertEqual(symlink(outside, "\(out)/\(first)"), 0)
        try snap.expect(0, ["restore", "latest", "--target", out])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), [])
        XCTAssertEqual(read("\(out)\(source)/a/x.txt"), "x\n")
    }

    // A file in the target with the snapshot's content but other names (a hard link to a
    // file outside the target) is replaced, not kept: keeping it set the snapshot's mode
    // and times on the outside file too (campaign 10 F2; restic 0.14 does so).
    func testHardLinkInTargetToAnOutsideFileIsReplaced() throws {
        let out = "\(work)/out", outside = "\(work)/outside"
        try FileManager.default.createDirectory(atPath: "\(out)\(source)/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
        try "x\n".write(toFile: "\(outside)/victim", atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod("\(outside)/victim", 0o600), 0)
        XCTAssertEqual(link("\(outside)/victim", "\(out)\(source)/a/x.txt"), 0)
        let before = try FileSystemStat.of("\(outside)/victim")
        try snap.expect(0, ["restore", "latest", "--target", out])
        let after = try FileSystemStat.of("\(outside)/victim")
        XCTAssertEqual(after.mode, before.mode, "the outside file keeps its mode")
        XCTAssertEqual(after.mtime, before.mtime, "and its times")
        XCTAssertEqual(after.links, 1, "the target's name was replaced by a file of its own")
        XCTAssertEqual(read("\(out)\(source)/a/x.txt"), "x\n")
    }

    // With --overwrite never (or if-newer), a further name of a hard-linked file is linked
    // to its first name left in the target only when that is a file of its own: next to a
    // planted symlink, or a file linked outside the target, it is written as a file from its
    // own content (campaign 10 F3: it became a second name of the symlink or outside file).
    func testFurtherHardLinkNamesNeverJoinAPlantedFirstName() throws {
        try "SNAP\n".write(toFile: "\(source)/first", atomically: false, encoding: .utf8)
        XCTAssertEqual(link("\(source)/first", "\(source)/second"), 0)
        try snap.expect(0, ["backup", source])
        let outside = "\(work)/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
        try "victim\n".write(toFile: "\(outside)/victim", atomically: false, encoding: .utf8)
        for (n, plant) in [symlink, link].enumerated() {
            let out = "\(work)/out\(n)"
            try FileManager.default.createDirectory(atPath: "\(out)\(source)", withIntermediateDirectories: true)
            XCTAssertEqual(plant("\(outside)/victim", "\(out)\(source)/first"), 0)
            try snap.expect(0, ["restore", "latest", "--target", out, "--overwrite", "never"])
            let second = try FileSystemStat.of("\(out)\(source)/second", following: false)
            XCTAssertTrue(second.isRegularFile, "case \(n): a file, not the planted symlink")
            XCTAssertEqual(second.links, 1, "case \(n): not a further name of the outside file")
            XCTAssertEqual(read("\(out)\(source)/second"), "SNAP\n", "case \(n)")
            XCTAssertEqual(read("\(outside)/victim"), "victim\n")
        }
    }

    // `restore SNAPSHOT:/sub` and `dump SNAPSHOT:/sub /` keep the hard links inside the
    // subfolder (their first names are full snapshot paths, now taken relative to it); a
    // link whose first name lies outside the subfolder comes back as a file (campaign 10 F6).
    func testSubfolderRestoreAndDumpKeepHardLinks() throws {
        try "L\n".write(toFile: "\(source)/a/one", atomically: false, encoding: .utf8)
        XCTAssertEqual(link("\(source)/a/one", "\(source)/a/two"), 0)
        try "O\n".write(toFile: "\(source)/outer", atomically: false, encoding: .utf8)
        XCTAssertEqual(link("\(source)/outer", "\(source)/a/three"), 0)
        try snap.expect(0, ["backup", source])
        let out = "\(work)/sub-out"
        try snap.expect(0, ["restore", "latest:\(source)/a", "--target", out])
        let one = try FileSystemStat.of("\(out)/one"), two = try FileSystemStat.of("\(out)/two")
        XCTAssertEqual([one.links, two.links], [2, 2], "one file with two names")
        XCTAssertEqual(read("\(out)/three"), "O\n", "its first name is outside the subfolder: a file")
        XCTAssertTrue(try FileSystemStat.of("\(out)/three").isRegularFile)

        try snap.expect(0, ["dump", "latest:\(source)/a", "/", "--target", "\(work)/sub.tar"])
        let listing = try runTool("/bin/tar", ["-tvf", "\(work)/sub.tar"]).stdout
        let lines = listing.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.hasPrefix("h") && $0.contains("two link to one") }, listing)
        XCTAssertTrue(lines.contains { $0.hasPrefix("-") && $0.hasSuffix(" three") }, listing)
    }

    func testBadInputIsRefusedBeforeAnythingIsWritten() throws {
        let file = "\(work)/a-file"
        try "keep\n".write(toFile: file, atomically: false, encoding: .utf8)
        for (arguments, text) in [
            (["restore", "latest", "--target", "\(work)/out", "--overwrite", "sometimes"], "--overwrite"),
            (["restore", "latest", "--target", "\(work)/out", "--delete=yes"], "--delete"),
            (["restore", "latest", "--target", file], "not a folder"),
        ] {
            let result = try snap.run(arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            let firstLine = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
            XCTAssertTrue(firstLine.contains(text), "\(arguments): \(result.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out"))
        XCTAssertEqual(read(file), "keep\n")
    }
}
