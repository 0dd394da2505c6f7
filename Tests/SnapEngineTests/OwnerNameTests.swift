#if canImport(Glibc)
import Glibc
#endif
import XCTest
import SnapCore
import SnapEngine

final class OwnerNameTests: XCTestCase {
    // A backup records each entry's owner and group by ID and by this host's name for it;
    // a restore as root gives the entry back to the user and group of those names.
    func testOwnersAreRecordedByNameAndRestored() throws {
        guard getuid() == 0 else { throw XCTSkip("changing a file's owner needs root") }
        guard let user = getpwnam("nobody")?.pointee, let group = getgrgid(user.pw_gid)?.pointee else {
            throw XCTSkip("this host has no user 'nobody'")
        }
        let (uid, gid) = (user.pw_uid, user.pw_gid)
        let groupName = String(cString: group.gr_name)
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        let owned = PathBytes.join(source, Disk.bytes("owned.txt")), mine = PathBytes.join(source, Disk.bytes("mine.txt"))
        try Disk.write(owned, Array("theirs\n".utf8))
        try Disk.write(mine, Array("mine\n".utf8))
        XCTAssertEqual(PathBytes.withCString(owned) { chown($0, uid, gid) }, 0)

        let backup = try f.backup([f.source("src")])
        let entries = try f.snapshotEntries(backup.snapshot.tree)
        let node = try XCTUnwrap(entries[owned])
        XCTAssertEqual(node.uid, uid)
        XCTAssertEqual(node.user, "nobody")
        XCTAssertEqual(node.gid, gid)
        XCTAssertEqual(node.group, groupName)
        XCTAssertEqual(try XCTUnwrap(entries[mine]).user, "root")

        let result = try f.restore(backup.snapshot.tree)
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        let restored = try Disk.lstat(f.restored(owned))
        XCTAssertEqual(restored.st_uid, uid)
        XCTAssertEqual(restored.st_gid, gid)
        XCTAssertEqual(try Disk.lstat(f.restored(mine)).st_uid, 0)
    }
}
