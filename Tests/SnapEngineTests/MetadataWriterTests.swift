import CPosix
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import SnapEngine
import SnapTestSupport
import XCTest

/// What a restore sets on an entry: owners by name or by number, and the attributes an
/// entry that was already there keeps.
final class MetadataWriterTests: XCTestCase {
    private var folder: TemporaryDirectory!

    override func setUpWithError() throws { folder = try TemporaryDirectory(prefix: "snap-metadata") }
    override func tearDown() { folder.remove() }

    private func names(_ path: String) -> Set<String> {
        Set(path.withCString { MetadataWriter.attributeNames(path: $0, fd: nil) }.map { String(decoding: $0, as: UTF8.self) })
    }

    /// `user::rw-,user:1234:rw-,group::r--,mask::rw-,other::---`.
    private let acl = PosixACL(entries: [.init(tag: .owner, permissions: 6), .init(tag: .user, permissions: 6, id: 1234),
                                         .init(tag: .owningGroup, permissions: 4), .init(tag: .mask, permissions: 6),
                                         .init(tag: .other, permissions: 0)]).attribute

    // On an entry that was there and is kept, user attributes and ACLs the snapshot lacks
    // are removed, the snapshot's set; on one this restore made, nothing is listed or removed.
    func testAttributesTheSnapshotLacksAreRemovedFromExistingEntries() throws {
        let path = folder.appending("f")
        try "x".write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertEqual(setxattr(path, "user.planted", "1", 1, 0), 0, "user xattrs on the test folder")
        XCTAssertEqual(setxattr(path, "user.kept", "old", 3, 0), 0)
        let aclSet = acl.withUnsafeBytes { setxattr(path, "system.posix_acl_access", $0.baseAddress, $0.count, 0) } == 0
        let node = Node(name: Array("f".utf8), type: .file, mode: 0o640,
                        xattrs: [ExtendedAttribute(name: Array("user.kept".utf8), value: Array("new".utf8))])
        let writer = MetadataWriter(restoreOwnership: false)
        let problems = path.withCString { writer.apply(node, snapshotPath: Array("/f".utf8), path: $0, fd: nil, wasThere: true) }
        XCTAssertEqual(problems, [])
        XCTAssertEqual(names(path), ["user.kept"], aclSet ? "the ACL went too" : "no ACLs here")
        var value = [UInt8](repeating: 0, count: 8)
        XCTAssertEqual(getxattr(path, "user.kept", &value, value.count), 3)
        XCTAssertEqual(Array(value.prefix(3)), Array("new".utf8))
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o7777, 0o640, "the mode is the snapshot's, not the removed ACL's mask")

        XCTAssertEqual(setxattr(path, "user.planted", "1", 1, 0), 0)
        _ = path.withCString { writer.apply(node, snapshotPath: Array("/f".utf8), path: $0, fd: nil, created: .init(modeIsFinal: false, ownerIsOurs: true)) }
        XCTAssertTrue(names(path).contains("user.planted"), "a file this restore created is not searched")
        _ = path.withCString { writer.apply(node, snapshotPath: Array("/f".utf8), path: $0, fd: nil) }
        XCTAssertTrue(names(path).contains("user.planted"), "nor one it replaced or wrote in pieces")
        XCTAssertFalse(MetadataWriter.isRestoreOwned(Array("security.selinux".utf8)))
        XCTAssertFalse(MetadataWriter.isRestoreOwned(Array("security.capability".utf8)))
    }

    // Owners: the number the stored name has here, or with numericOwners the stored number.
    func testOwnersByNameOrByNumber() throws {
        guard geteuid() == 0 else { throw XCTSkip("setting owners needs root") }
        let path = folder.appending("owned")
        try "x".write(toFile: path, atomically: false, encoding: .utf8)
        let node = Node(name: Array("owned".utf8), type: .file, mode: 0o644, uid: 4321, gid: 4322, user: "root", group: "root")
        var info = stat()
        _ = path.withCString { MetadataWriter(restoreOwnership: true).apply(node, snapshotPath: [], path: $0, fd: nil) }
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual([info.st_uid, info.st_gid], [0, 0], "the name root is uid 0 here")
        _ = path.withCString { MetadataWriter(restoreOwnership: true, numericOwners: true).apply(node, snapshotPath: [], path: $0, fd: nil) }
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual([info.st_uid, info.st_gid], [4321, 4322])
    }
}

extension MetadataWriterTests {
    // One entry whose owner and many attributes fail is one line, grouped by reason.
    func testFailuresOfOneEntryAreOneLine() {
        var failures: [(part: MetadataWriter.Part, code: Int32)] = [(.owner, EPERM), (.mode, EPERM)]
        failures += (1...50).map { (.attribute("user.k\($0)"), EPERM) }
        failures.append((.removal("user.extra"), EACCES))
        let lines = MetadataWriter.message(failures, snapshotPath: Array("/srv/x".utf8))
        XCTAssertEqual(lines.count, 1)
        let line = lines[0]
        XCTAssertTrue(line.hasPrefix("/srv/x: cannot set owner, mode, 50 extended attributes (user.k1, user.k2, user.k3, …): "), line)
        XCTAssertTrue(line.contains("; cannot remove extended attribute user.extra the snapshot does not have: Permission denied"), line)
        XCTAssertEqual(MetadataWriter.message([], snapshotPath: []), [])
    }
}
