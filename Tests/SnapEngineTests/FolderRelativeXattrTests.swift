#if canImport(Glibc)
import Glibc
#endif
import CPosix
import XCTest
import SnapCore
import SnapTestSupport
@testable import SnapEngine

/// A backup run as root reads the extended attributes of a user's entries relative to the
/// folder it listed (`FileSystem.xattrs(_:in:path:)`), not by path: a folder on the way
/// swapped for a symlink after the listing must not make the read another file's.
final class FolderRelativeXattrTests: XCTestCase {
    private var folder: TemporaryDirectory!
    private var root: [UInt8] = []

    override func setUpWithError() throws {
        folder = try TemporaryDirectory(prefix: "snap-xattr-relative")
        root = Disk.bytes(folder.path)
        for name in ["mine", "secret"] {
            try Disk.mkdir(at(name))
            try Disk.write(at(name, "file"), Array("\(name)\n".utf8))
            try tag(at(name, "file"), name)
        }
    }
    override func tearDown() { folder.remove() }

    private func at(_ parts: String...) -> [UInt8] { parts.reduce(root) { PathBytes.join($0, Disk.bytes($1)) } }

    private func tag(_ path: [UInt8], _ value: String) throws {
        let ok = PathBytes.withCString(path) { p in
            Array(value.utf8).withUnsafeBytes { lsetxattr(p, "user.owner", $0.baseAddress, $0.count, 0) }
        }
        if ok != 0 && (errno == ENOTSUP || errno == EOPNOTSUPP) { throw XCTSkip("the file system has no user xattrs") }
        XCTAssertEqual(ok, 0, String(cString: strerror(errno)))
    }

    private func values(_ read: FileSystem.ExtendedAttributes) -> [String] {
        read.attributes.map { String(decoding: $0.name + [61] + $0.value, as: UTF8.self) }
    }

    /// `mine` opened, then swapped for a symlink to `secret`: each route that reads relative
    /// to the open folder still gives `mine/file`'s attribute, where the path gives secret's.
    func testASwappedFolderIsNotFollowed() throws {
        let directory = try FileSystem.Directory(at("mine"), listed: ListedEntry(try FileSystem.lstat(at("mine"))))
        XCTAssertEqual(rename(folder.appending("mine"), folder.appending("mine.old")), 0)
        try Disk.symlink(at("secret"), at: at("mine"))

        // Before Linux 6.13 the default takes the next route (below).
        for route in [FileSystem.XattrRoute.procFolder] + (kernelHasRelativeCalls(directory) ? [.relativeCalls] : []) {
            let read = try FileSystem.xattrs(Disk.bytes("file"), in: directory.descriptor, path: at("mine", "file"), through: route)
            XCTAssertEqual(values(read), ["user.owner=mine"], "\(route)")
        }
        XCTAssertEqual(values(try FileSystem.xattrs(Disk.bytes("file"), in: directory.descriptor, path: at("mine", "file"))),
                       ["user.owner=mine"], "the route chosen by default")
        XCTAssertEqual(values(try FileSystem.xattrs(at("mine", "file"))), ["user.owner=secret"], "a read by path follows the swap")
    }

    /// An entry that is itself a symlink is read, not what it points to; a missing entry
    /// fails with ENOENT; an entry without attributes gives none.
    func testTheEntryItselfIsRead() throws {
        try Disk.symlink(at("secret", "file"), at: at("mine", "link"))
        try Disk.write(at("mine", "plain"), [1])
        let directory = try FileSystem.Directory(at("mine"))
        for route in [FileSystem.XattrRoute.procFolder, .path] + (kernelHasRelativeCalls(directory) ? [.relativeCalls] : []) {
            let link = try FileSystem.xattrs(Disk.bytes("link"), in: directory.descriptor, path: at("mine", "link"), through: route)
            XCTAssertEqual(values(link), [], "\(route)")
            XCTAssertEqual(values(try FileSystem.xattrs(Disk.bytes("plain"), in: directory.descriptor, path: at("mine", "plain"), through: route)),
                           [], "\(route)")
            XCTAssertThrowsError(try FileSystem.xattrs(Disk.bytes("gone"), in: directory.descriptor, path: at("mine", "gone"), through: route)) {
                XCTAssertEqual(($0 as? FileSystem.Failure)?.code, ENOENT, "\(route)")
            }
        }
    }

    private func kernelHasRelativeCalls(_ directory: FileSystem.Directory) -> Bool {
        do {
            _ = try FileSystem.xattrs(Disk.bytes("file"), in: directory.descriptor, path: at("mine", "file"), through: .relativeCalls)
            return true
        } catch {
            return error.code != ENOSYS && error.code != EPERM
        }
    }
}

/// An entry whose extended attributes cannot be read (its folder replaced during the walk,
/// campaign 20 F1) must not be stored in a way the next backup takes as unchanged: stored
/// without them, it kept lacking them in every later snapshot.
final class UnreadableXattrsTests: XCTestCase {
    private let replaced = FileSystem.Failure(code: ESTALE, replaced: true)
    private let tag = [ExtendedAttribute(name: Array("user.who".utf8), value: Array("me".utf8))]

    func testAFileIsLeftOutForTheNextBackupToRead() {
        let parent = Node(name: [102], type: .file, inode: 7, xattrs: tag)
        for type in [NodeType.file, .symlink, .fifo] {
            guard case .leaveOut(let warning) = Archiver.unreadableXattrs(replaced, type: type, inode: 7, parent: parent) else {
                return XCTFail("\(type) kept")
            }
            XCTAssertTrue(warning.contains("its folder was replaced after it was listed"), warning)
            XCTAssertTrue(warning.hasSuffix("left out, the next backup reads it"), warning)
        }
        XCTAssertEqual(Archiver.unreadableXattrs(FileSystem.Failure(code: ENOENT), type: .file, inode: 7, parent: nil),
                       .leaveOut(warning: "cannot read extended attributes: it vanished before they could be read; left out, the next backup reads it"))
    }

    func testAFolderKeepsThoseOfTheSameFolderInTheParentSnapshot() {
        let same = Node(name: [100], type: .directory, inode: 7, xattrs: tag)
        XCTAssertEqual(Archiver.unreadableXattrs(replaced, type: .directory, inode: 7, parent: same),
                       .keep(tag, warning: "cannot read extended attributes: its folder was replaced after it was listed (renamed over, "
                             + "or a folder above it swapped for a symlink); the folder keeps those of the parent snapshot"))
        for other in [Node(name: [100], type: .directory, inode: 8, xattrs: tag), Node(name: [100], type: .file, inode: 7, xattrs: tag)] {
            guard case .keep(let kept, let warning) = Archiver.unreadableXattrs(replaced, type: .directory, inode: 7, parent: other) else {
                return XCTFail("folder left out")
            }
            XCTAssertEqual(kept, [], "another entry's attributes")
            XCTAssertTrue(warning.hasSuffix("the folder is stored without them"), warning)
        }
        guard case .keep(let none, _) = Archiver.unreadableXattrs(replaced, type: .directory, inode: 7, parent: nil) else {
            return XCTFail("folder left out")
        }
        XCTAssertEqual(none, [])
    }
}
