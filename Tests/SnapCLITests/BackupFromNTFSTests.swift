import Foundation
import XCTest
import SnapTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: a backup from a real NTFS file system (ntfs-3g over an image file), whose
/// alternate data streams appear as extended attributes.
final class BackupFromNTFSTests: XCTestCase {
    var work = ""
    var mountPoint = ""
    var image = ""

    override func setUpWithError() throws {
        guard geteuid() == 0, access("/dev/fuse", R_OK | W_OK) == 0,
              access("/usr/sbin/mkntfs", X_OK) == 0, access("/usr/bin/ntfs-3g", X_OK) == 0 else {
            throw XCTSkip("needs root, /dev/fuse, mkntfs and ntfs-3g (scripts/install-deps.sh installs them)")
        }
        work = try makeTemporaryFolder("backup-ntfs")
        image = "\(work)/disk.img"
        XCTAssertEqual(try runTool("/usr/bin/truncate", ["-s", "32M", image]).status, 0)
        XCTAssertEqual(try runTool("/usr/sbin/mkntfs", ["-F", "-f", "-q", image]).status, 0)
        mountPoint = "\(work)/disk"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
    }

    override func tearDownWithError() throws {
        if !mountPoint.isEmpty { _ = try runTool("/bin/umount", [mountPoint]) }
        if !work.isEmpty { try? FileManager.default.removeItem(atPath: work) }
    }

    private func mount(_ options: [String] = []) throws {
        guard try mountFUSE("/usr/bin/ntfs-3g", options + [image, mountPoint]) else { throw XCTSkip("ntfs-3g cannot mount here") }
    }

    // A stream larger than the 64 KiB an extended attribute can carry cannot be read as
    // one (E2BIG): it is named in a warning (exit 3), and the file's other streams are kept.
    func testAnExtendedAttributeTooLargeToReadIsNamed() throws {
        try mount(["-o", "streams_interface=windows"])
        try "x\n".write(toFile: "\(mountPoint)/f", atomically: false, encoding: .utf8)
        try Data(repeating: 0x61, count: 200_000).write(to: URL(fileURLWithPath: "\(mountPoint)/f:big"))
        try Data("small\n".utf8).write(to: URL(fileURLWithPath: "\(mountPoint)/f:small"))
        XCTAssertEqual(try runTool("/bin/umount", [mountPoint]).status, 0)
        try mount()
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "ntfs"])
        try snap.expect(0, ["init"])
        let backup = try snap.run(["backup", "\(mountPoint)/f"])
        XCTAssertEqual(backup.status, 3, backup.stderr)
        XCTAssertTrue(backup.stderr.contains("/f: cannot read extended attribute user.big: Argument list too long"), backup.stderr)
        let ls = try snap.expect(0, ["ls", "--json", "latest", "\(mountPoint)/f"])
        XCTAssertTrue(ls.stdout.contains("user.small"), ls.stdout)
    }
}
