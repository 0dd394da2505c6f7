import Foundation
import XCTest
import SnapTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: restores onto a real exFAT file system (exfat-fuse over an image file), as a
/// USB disk gives them: names that ignore case, no fifos, no owners, names it refuses.
final class RestoreOntoExFATTests: XCTestCase {
    var work = ""
    var disk: ExFATDisk?
    var mountPoint: String { disk?.path ?? "" }
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("restore-exfat")
        disk = try ExFATDisk(in: work)
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "exfat"])
        try snap.expect(0, ["init"])
    }

    override func tearDownWithError() throws {
        disk?.unmount()
        if !work.isEmpty { try? FileManager.default.removeItem(atPath: work) }
    }

    private func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    private func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    // The target holds older copies under other spellings (`report.docx`, `photos/img.jpg`):
    // `--delete` must not take them for extra entries, since they are the very entries the
    // restore just wrote. A really extra file is still deleted.
    func testDeleteKeepsWhatItRestoredUnderAnotherSpelling() throws {
        let source = "\(work)/src"
        try write("new report\n", "\(source)/Report.docx")
        try write("b\n", "\(source)/b.txt")
        try write("new photo\n", "\(source)/Photos/IMG.JPG")
        try snap.expect(0, ["backup", source])
        let target = "\(mountPoint)/t"
        try write("old report\n", "\(target)/report.docx")
        try write("old photo\n", "\(target)/photos/img.jpg")
        try write("extra\n", "\(target)/extra.txt")
        let restore = try snap.expect(0, ["restore", "latest:\(source)", "--target", target, "--delete", "-v"])
        XCTAssertEqual(read("\(target)/Report.docx"), "new report\n", restore.stdout + restore.stderr)
        XCTAssertEqual(read("\(target)/b.txt"), "b\n")
        XCTAssertEqual(read("\(target)/Photos/IMG.JPG"), "new photo\n", restore.stdout + restore.stderr)
        XCTAssertNil(read("\(target)/extra.txt"))
        XCTAssertTrue(restore.stdout.contains("deleted /extra.txt"), restore.stdout)
        XCTAssertFalse(restore.stdout.contains("deleted /report.docx"), restore.stdout)
        XCTAssertFalse(restore.stdout.contains("deleted /photos"), restore.stdout)
        XCTAssertTrue(restore.stdout.contains("1 deleted"), restore.stdout)
    }

    // `File` and `file` in one folder are one name on exFAT: the second is named as not
    // restored (exit 1) instead of replacing the first without a word.
    func testTwoNamesThatDifferOnlyInCaseAreNotLostSilently() throws {
        let source = "\(work)/src"
        try write("upper\n", "\(source)/File")
        try write("lower!\n", "\(source)/file")
        try snap.expect(0, ["backup", source])
        let target = "\(mountPoint)/t"
        let restore = try snap.run(["restore", "latest:\(source)", "--target", target])
        XCTAssertEqual(restore.status, 1, restore.stderr)
        XCTAssertTrue(restore.stderr.contains("cannot create: File exists (it was free when the restore began"), restore.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: target)
        XCTAssertEqual(names.count, 1)
        let kept = try XCTUnwrap(names.first)
        XCTAssertEqual(read("\(target)/\(kept)"), kept == "File" ? "upper\n" : "lower!\n", "the one restored has its own content")
        XCTAssertTrue(restore.stderr.contains(kept == "File" ? "/file: cannot create" : "/File: cannot create"), restore.stderr)
    }

    // exfat-fuse answers the creation of a fifo with EIO: that entry is named, and every other
    // one is restored; a name exFAT refuses is said to be refused, not "removed".
    func testEntriesTheTargetCannotHoldAreNamedAndTheRestGoesOn() throws {
        let source = "\(work)/src"
        try write("one\n", "\(source)/one.txt")
        try write("colon\n", "\(source)/a:b")
        XCTAssertEqual(mkfifo("\(source)/pipe", 0o644), 0)
        try write("two\n", "\(source)/sub/two.txt")
        try snap.expect(0, ["backup", source])
        let target = "\(mountPoint)/t"
        let restore = try snap.run(["restore", "latest:\(source)", "--target", target])
        XCTAssertEqual(restore.status, 1, restore.stderr)
        XCTAssertEqual(read("\(target)/one.txt"), "one\n", restore.stderr)
        XCTAssertEqual(read("\(target)/sub/two.txt"), "two\n", restore.stderr)
        XCTAssertFalse(restore.stderr.contains("restore stopped"), restore.stderr)
        XCTAssertTrue(restore.stderr.contains("/pipe: cannot create: Input/output error (the target file system may not hold fifos"), restore.stderr)
        XCTAssertTrue(restore.stderr.contains("/a:b: cannot create:"), restore.stderr)
        XCTAssertTrue(restore.stderr.contains("may not allow this name"), restore.stderr)
        XCTAssertFalse(restore.stderr.contains("file removed"), restore.stderr)
    }
}

/// A repository on an exFAT USB disk: packs are assembled in place on a file system without
/// `O_TMPFILE`.
final class RepositoryOnExFATTests: XCTestCase {
    var work = ""
    var disk: ExFATDisk?

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("repository-exfat")
        disk = try ExFATDisk(in: work, size: "48M")
    }

    override func tearDownWithError() throws {
        disk?.unmount()
        if !work.isEmpty { try? FileManager.default.removeItem(atPath: work) }
    }

    // 36 MiB of data that does not compress fits on a 48 MiB disk: each pack is renamed into
    // place, not copied (which needed room for it twice), and nothing is left behind.
    func testABackupNearlyAsLargeAsTheDiskFits() throws {
        let disk = try XCTUnwrap(disk)
        let source = "\(work)/src"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        var generator = SystemRandomNumberGenerator()
        for i in 0..<36 {
            let bytes = (0..<(1 << 20) / 8).map { _ in generator.next() as UInt64 }
            try bytes.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(source)/f\(i)")) }
        }
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(disk.path)/repo", "SNAP_PASSWORD": "exfat"])
        try snap.expect(0, ["init"])
        try snap.expect(0, ["backup", source])
        try snap.expect(0, ["check", "--read-data"])
        let left = try FileManager.default.contentsOfDirectory(atPath: "\(disk.path)/repo/data").filter { $0.hasPrefix(".tmp") }
        XCTAssertEqual(left, [])
    }
}
