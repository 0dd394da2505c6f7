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
    var mountPoint = ""
    /// The loop device over the image (as root, exfat-fuse mounts block devices only).
    var loopDevice = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        guard geteuid() == 0, access("/dev/fuse", R_OK | W_OK) == 0, access("/usr/sbin/losetup", X_OK) == 0,
              access("/usr/sbin/mkfs.exfat", X_OK) == 0, access("/usr/sbin/mount.exfat-fuse", X_OK) == 0 else {
            throw XCTSkip("needs root, /dev/fuse, losetup, mkfs.exfat and mount.exfat-fuse (scripts/install-deps.sh installs them)")
        }
        work = try makeTemporaryFolder("restore-exfat")
        let image = "\(work)/disk.img"
        XCTAssertEqual(try runTool("/usr/bin/truncate", ["-s", "64M", image]).status, 0)
        XCTAssertEqual(try runTool("/usr/sbin/mkfs.exfat", [image]).status, 0)
        mountPoint = "\(work)/disk"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let loop = try runTool("/usr/sbin/losetup", ["-f", "--show", image])
        guard loop.status == 0 else { throw XCTSkip("no loop device here") }
        loopDevice = loop.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard try mountFUSE("/usr/sbin/mount.exfat-fuse", [loopDevice, mountPoint]) else {
            mountPoint = ""
            throw XCTSkip("exfat-fuse cannot mount here")
        }
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "exfat"])
        try snap.expect(0, ["init"])
    }

    override func tearDownWithError() throws {
        if !mountPoint.isEmpty { _ = try runTool("/bin/umount", [mountPoint]) }
        if !loopDevice.isEmpty { _ = try runTool("/usr/sbin/losetup", ["-d", loopDevice]) }
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
