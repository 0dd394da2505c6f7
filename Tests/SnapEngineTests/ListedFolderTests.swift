#if canImport(Glibc)
import Glibc
#endif
import XCTest
import SnapCore
import SnapTestSupport
@testable import SnapEngine

/// A folder is listed by its path after its parent's listing saw it: what the path leads to
/// then must be that folder (`ListedEntry`), or another folder's files (a root-only folder a
/// user's symlink points to) would be stored under the listed folder's name.
final class ListedFolderTests: XCTestCase {
    private var folder: TemporaryDirectory!
    private var root: [UInt8] = []

    override func setUpWithError() throws {
        folder = try TemporaryDirectory(prefix: "snap-listed-folder")
        root = Disk.bytes(folder.path)
        for name in ["mine", "secret"] {
            try Disk.mkdir(at(name))
            try Disk.write(at(name, "\(name).txt"), Array("\(name)\n".utf8))
        }
        // As root's own folder is: another mode (tests run as one user, so not another owner;
        // folders made in the same clock tick share their change time).
        XCTAssertEqual(chmod(folder.appending("secret"), 0o700), 0)
    }
    override func tearDown() { folder.remove() }

    private func at(_ parts: String...) -> [UInt8] { parts.reduce(root) { PathBytes.join($0, Disk.bytes($1)) } }

    func testTheFolderListedIsOpened() throws {
        let listed = ListedEntry(try FileSystem.lstat(at("mine")))
        XCTAssertEqual(try FileSystem.Directory(at("mine"), listed: listed).names(), [Disk.bytes("mine.txt")])
    }

    // The folder swapped for a symlink to another folder after it was listed.
    func testAFolderSwappedForASymlinkIsRefused() throws {
        let listed = ListedEntry(try FileSystem.lstat(at("mine")))
        XCTAssertEqual(rename(String(decoding: at("mine"), as: UTF8.self), folder.appending("mine.old")), 0)
        try Disk.symlink(at("secret"), at: at("mine"))
        XCTAssertThrowsError(try FileSystem.Directory(at("mine"), listed: listed)) { error in
            XCTAssertTrue((error as? FileSystem.Failure)?.replaced == true, "\(error)")
            XCTAssertTrue("\(error)".contains("replaced by another folder"), "\(error)")
        }
    }

    // Another folder renamed over the listed one.
    func testAFolderRenamedOverIsRefused() throws {
        let listed = ListedEntry(try FileSystem.lstat(at("mine")))
        try FileManager.default.removeItem(atPath: folder.appending("mine"))
        XCTAssertEqual(rename(folder.appending("secret"), folder.appending("mine")), 0)
        XCTAssertThrowsError(try FileSystem.Directory(at("mine"), listed: listed))
    }
}
