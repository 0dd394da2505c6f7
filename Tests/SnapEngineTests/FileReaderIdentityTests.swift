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

    // A file system whose inode numbers do not stay (FUSE) gives the same file a new number:
    // the same owner, mode and change time still name it.
    func testAFileWithANewInodeNumberButTheSameMetadataIsRead() throws {
        let path = folder.appending("f")
        try Data("listed\n".utf8).write(to: URL(fileURLWithPath: path))
        var listed = try lstatOf(path)
        listed.st_ino &+= 1
        let result = try read(path, listed: listed)
        XCTAssertEqual(result.node?.size, 7)
        XCTAssertEqual(result.warnings, [])
    }
}
