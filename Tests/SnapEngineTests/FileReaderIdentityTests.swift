import XCTest
import SnapCore
import SnapRepository
import SnapStorage
import SnapTestSupport
import Synchronization
@testable import SnapEngine
#if canImport(Glibc)
import Glibc
#endif

/// A file is read by its path after the walk listed it: what the path leads to then must be
/// the file listed, or its content would be stored under another file's owner and mode.
final class FileReaderIdentityTests: XCTestCase {
    private var folder: TemporaryDirectory!

    override func setUpWithError() throws { folder = try TemporaryDirectory(prefix: "snap-reader-identity") }
    override func tearDown() { folder.remove() }

    /// Reads `path` as the walk would have listed it when it had `listed`'s `lstat`.
    private func read(_ path: String, listed: stat) throws -> (node: Node?, warnings: [String]) {
        let repository = try makeEngineRepository(on: MemoryBackend())
        let saver = BlobSaver(repository: repository)
        let uploads = BlobUploadQueue(saver: saver, threads: 1, capacity: 1)
        defer { uploads.stop() }
        let told = Mutex<[String]>([])
        let record = BackupRecord(report: { line in told.withLock { $0.append(line) } })
        let context = BackupContext(repository: repository, saver: saver, uploads: uploads, progress: BackupProgress(), record: record)
        let reader = FileReader(context: context, threads: 1)
        defer { reader.close() }
        let node = Node(name: Array("f".utf8), type: .file, stat: listed, owners: UserDatabase())
        let read = try reader.read(FileReader.File(path: Array(path.utf8), node: node, isChange: false))
        return (read, told.withLock { $0 })
    }

    private func lstatOf(_ path: String) throws -> stat {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw CocoaError(.fileNoSuchFile) }
        return st
    }

    func testTheFileListedIsRead() throws {
        let path = folder.appending("f")
        try Data("listed\n".utf8).write(to: URL(fileURLWithPath: path))
        let result = try read(path, listed: try lstatOf(path))
        XCTAssertEqual(result.node?.size, 7)
        XCTAssertEqual(result.warnings, [])
    }

    // Another file renamed over the listed one (or a folder above it swapped for a symlink
    // to a folder of other files) after the walk: left out with a warning, not stored with
    // the listed file's metadata.
    func testAFileRenamedOverTheListedOneIsLeftOut() throws {
        let path = folder.appending("f"), other = folder.appending("other")
        try Data("listed\n".utf8).write(to: URL(fileURLWithPath: path))
        let listed = try lstatOf(path)
        try Data("someone else's secret\n".utf8).write(to: URL(fileURLWithPath: other))
        XCTAssertEqual(chmod(other, 0o600), 0)
        XCTAssertEqual(rename(other, path), 0)
        let result = try read(path, listed: listed)
        XCTAssertNil(result.node)
        XCTAssertEqual(result.warnings.count, 1)
        XCTAssertTrue(result.warnings.first?.contains("was replaced by another file after it was listed") == true, "\(result.warnings)")
    }

    // On a file system that keeps inode numbers (this temporary folder's), another number is
    // another file, though it has the same owner, mode and change time: two files changed in
    // one clock tick share those (campaign 22 F1: folders swapped during a backup stored one
    // file's content with the other's attributes).
    func testAFileWithANewInodeNumberButTheSameMetadataIsLeftOut() throws {
        let path = folder.appending("f")
        try Data("listed\n".utf8).write(to: URL(fileURLWithPath: path))
        var listed = try lstatOf(path)
        listed.st_ino &+= 1
        let result = try read(path, listed: listed)
        XCTAssertNil(result.node)
        XCTAssertTrue(result.warnings.first?.contains("was replaced by another file after it was listed") == true, "\(result.warnings)")
    }

    // A file system whose inode numbers do not stay (FUSE, FAT, exFAT) gives the same file a
    // new number: there the same owner, mode and change time still name it; elsewhere not.
    func testOwnerModeAndChangeTimeNameAFileOnlyWhereNumbersChange() throws {
        let path = folder.appending("f")
        try Data("listed\n".utf8).write(to: URL(fileURLWithPath: path))
        let opened = try lstatOf(path)
        var renumbered = opened
        renumbered.st_ino &+= 1
        XCTAssertTrue(ListedEntry(opened).isOpened(opened, renumbers: false))
        XCTAssertFalse(ListedEntry(renumbered).isOpened(opened, renumbers: false))
        XCTAssertTrue(ListedEntry(renumbered).isOpened(opened, renumbers: true))
        var otherMode = renumbered
        otherMode.st_mode ^= 0o044
        XCTAssertFalse(ListedEntry(otherMode).isOpened(opened, renumbers: true))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        XCTAssertTrue(FileSystem.keepsInodeNumbers(fd), "a temporary folder (ext4 or tmpfs here) keeps inode numbers")
    }

    // Which file systems renumber: FUSE, FAT and exFAT everything; overlayfs only folders
    // (campaign 23 F1: layers on xfs and tmpfs gave folders new numbers after the kernel
    // dropped its inode cache, and the new rule stored them empty); ext4 nothing.
    func testWhichFileSystemsRenumber() {
        let ext4 = 0xEF53, fuse = 0x6573_5546, vfat = 0x4D44, exfat = 0x2011_BAB0, overlay = 0x794C_7630
        for folder in [false, true] {
            XCTAssertTrue(FileSystem.keepsInodeNumbers(fileSystemType: ext4, folder: folder))
            for type in [fuse, vfat, exfat] { XCTAssertFalse(FileSystem.keepsInodeNumbers(fileSystemType: type, folder: folder)) }
        }
        XCTAssertTrue(FileSystem.keepsInodeNumbers(fileSystemType: overlay, folder: false))
        XCTAssertFalse(FileSystem.keepsInodeNumbers(fileSystemType: overlay, folder: true))
    }
}
