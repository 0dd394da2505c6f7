import XCTest
import Foundation
import SnapStorage
import SnapTestSupport

final class LocalBackendErrorTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory.remove() }

    /// Asserts that `body` throws `StorageError.permanent` whose message names `file` and the backend's location.
    private func assertPermanent(_ backend: LocalBackend, _ file: FileName, _ body: () throws -> Void,
                                 line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            guard case let .permanent(_, reported, location, _)? = error as? StorageError else {
                return XCTFail("expected StorageError.permanent, got \(error)", line: line)
            }
            XCTAssertEqual(reported, file, line: line)
            XCTAssertEqual(location, backend.location, line: line)
            XCTAssertFalse((error as? StorageError)?.isTransient ?? true, line: line)
            let message = String(describing: error)
            XCTAssertTrue(message.contains(file.description), "message \(message) should name \(file)", line: line)
            XCTAssertTrue(message.contains(backend.location), "message \(message) should name \(backend.location)", line: line)
        }
    }

    // A repository path that is a symbolic link to a place that does not exist: a write
    // fails permanently saying so, not "not found" (which read as if a file were missing).
    func testWriteThroughADanglingLinkNamesIt() throws {
        let link = directory.appending("repo")
        XCTAssertEqual(symlink(directory.appending("missing/deeper"), link), 0)
        let backend = LocalBackend(root: link)
        let key = FileName(.keys, BackendConformance.fileName(1))
        assertPermanent(backend, key) { try backend.write(key, data: [1]) }
        XCTAssertThrowsError(try backend.write(key, data: [1])) { error in
            XCTAssertTrue("\(error)".contains("\(link) is a symbolic link to \(directory.appending("missing/deeper")), which does not exist"), "\(error)")
        }
    }

    // Writing into a folder without write permission is a permanent error naming the file and location.
    func testWriteIntoReadOnlyFolderIsPermanent() throws {
        if getuid() == 0 { throw XCTSkip("root ignores file permissions") }
        let root = directory.appending("repo")
        let backend = LocalBackend(root: root)
        try backend.write(FileName(.keys, BackendConformance.fileName(1)), data: [1])
        XCTAssertEqual(chmod("\(root)/keys", 0o500), 0)
        let blocked = FileName(.keys, BackendConformance.fileName(2))
        assertPermanent(backend, blocked) { try backend.write(blocked, data: [2]) }
        // A data file whose prefix folder cannot be created fails the same way.
        XCTAssertEqual(chmod(root, 0o500), 0)
        let pack = FileName(.data, BackendConformance.fileName(3))
        assertPermanent(backend, pack) { try backend.write(pack, data: [3]) }
        chmod(root, 0o700)
        chmod("\(root)/keys", 0o700)
        XCTAssertEqual(try backend.list(.keys).count, 1, "the failed write must leave no file behind")
        XCTAssertEqual(try backend.list(.data), [])
    }

    // A root that is a regular file, not a folder, makes writes fail permanently (even for root).
    func testRootIsAFileIsPermanent() throws {
        let root = directory.appending("plain-file")
        XCTAssertTrue(FileManager.default.createFile(atPath: root, contents: Data([1])))
        let backend = LocalBackend(root: root)
        let file = FileName(.index, BackendConformance.fileName(4))
        assertPermanent(backend, file) { try backend.write(file, data: [1]) }
        XCTAssertThrowsError(try backend.list(.index)) { error in
            guard case .permanent? = error as? StorageError else { return XCTFail("got \(error)") }
        }
    }

    // A fifo planted under a repository file's name (config, a pack) is refused at once:
    // opening it to read blocked until a writer came, forever (campaign 13 F8).
    func testAFifoInPlaceOfAFileIsRefusedWithoutBlocking() throws {
        let root = directory.appending("repo")
        let backend = LocalBackend(root: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(root + "/config", 0o600), 0)
        assertPermanent(backend, .config) { _ = try backend.read(.config) }
        XCTAssertThrowsError(try backend.read(.config)) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
    }

    // notFound and invalidRange messages name the file and the location.
    func testMessagesNameFileAndLocation() throws {
        let backend = LocalBackend(root: directory.appending("repo"))
        let file = FileName(.snapshots, BackendConformance.fileName(5))
        XCTAssertThrowsError(try backend.read(file)) { error in
            XCTAssertTrue(String(describing: error).contains(file.description))
            XCTAssertTrue(String(describing: error).contains(backend.location))
        }
        try backend.write(file, data: [1, 2, 3])
        XCTAssertThrowsError(try backend.read(file, range: 2..<4)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains(file.description) && message.contains(backend.location), message)
            XCTAssertTrue(message.contains("3 bytes"), message)
        }
    }
}
