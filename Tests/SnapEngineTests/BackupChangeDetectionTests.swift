#if canImport(Glibc)
import Glibc
#endif
import CPosix
import XCTest
import SnapCore
import SnapEngine

final class BackupChangeDetectionTests: XCTestCase {
    // An unchanged file takes its extended attributes from the parent snapshot (nothing is
    // read), but changing an attribute changes the ctime, so the next backup records the new
    // value, for files and for folders alike.
    func testChangedExtendedAttributeIsSeenAndUnchangedOnesAreKept() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        let file = PathBytes.join(source, Disk.bytes("tagged.txt"))
        let folder = PathBytes.join(source, Disk.bytes("tagged-dir"))
        try Disk.write(file, Array("content\n".utf8))
        try Disk.mkdir(folder)
        func tag(_ path: [UInt8], _ value: String) throws {
            let ok = PathBytes.withCString(path) { p in
                Array(value.utf8).withUnsafeBytes { lsetxattr(p, "user.snap-test", $0.baseAddress, $0.count, 0) }
            }
            if ok != 0 && (errno == ENOTSUP || errno == EOPNOTSUPP) { throw XCTSkip("the file system has no user xattrs") }
            XCTAssertEqual(ok, 0, String(cString: strerror(errno)))
        }
        func values(_ backup: BackupResult) throws -> [String] {
            let entries = try f.snapshotEntries(backup.snapshot.tree)
            return try [file, folder].map { path in
                let node = try XCTUnwrap(entries[path], PathBytes.display(path))
                return node.xattrs.first.map { String(decoding: $0.value, as: UTF8.self) } ?? "none"
            }
        }
        try tag(file, "one")
        try tag(folder, "one")
        XCTAssertEqual(try values(f.backup([f.source("src")])), ["one", "one"])

        let unchanged = try f.backup([f.source("src")])
        XCTAssertEqual(try values(unchanged), ["one", "one"], "kept from the parent")
        XCTAssertEqual(unchanged.snapshot.summary?.filesUnchanged, 1)

        try tag(file, "two")
        try tag(folder, "two")
        XCTAssertEqual(try values(f.backup([f.source("src")])), ["two", "two"], "an attribute changed after the parent")
    }
}
