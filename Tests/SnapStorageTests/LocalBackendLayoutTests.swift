import XCTest
import Foundation
import SnapStorage
import SnapTestSupport

final class LocalBackendLayoutTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory.remove() }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    // Pack files go into data/XX/ID, where XX is the first two digits; other kinds into kind/ID; config at the root.
    func testFileLayout() throws {
        let root = directory.appending("repo")
        let backend = LocalBackend(root: root)
        let pack = FileName(.data, "3f" + BackendConformance.fileName(1).dropFirst(2))
        let key = FileName(.keys, BackendConformance.fileName(2))
        try backend.write(pack, data: [1])
        try backend.write(key, data: [2])
        try backend.write(.config, data: [3])
        XCTAssertTrue(exists("\(root)/data/3f/\(pack.name)"))
        XCTAssertFalse(exists("\(root)/data/\(pack.name)"))
        XCTAssertTrue(exists("\(root)/keys/\(key.name)"))
        XCTAssertTrue(exists("\(root)/config"))
        XCTAssertEqual(backend.path(of: pack), "\(root)/data/3f/\(pack.name)")
        XCTAssertEqual(backend.path(of: .config), "\(root)/config")
    }

    // A trailing slash on the root is dropped, so paths and the location have no double slash.
    func testRootTrailingSlash() {
        let backend = LocalBackend(root: directory.appending("repo") + "//")
        XCTAssertEqual(backend.root, directory.appending("repo"))
        XCTAssertEqual(backend.location, "local:" + directory.appending("repo"))
    }

    // Files whose names start with .tmp- (unfinished writes) and sub-folders are never listed.
    func testTemporaryFilesAreNotListed() throws {
        let root = directory.appending("repo")
        let backend = LocalBackend(root: root)
        let pack = FileName(.data, "ab" + BackendConformance.fileName(3).dropFirst(2))
        let key = FileName(.keys, BackendConformance.fileName(4))
        try backend.write(pack, data: [1, 2])
        try backend.write(key, data: [3])
        for stray in ["\(root)/data/ab/.tmp-\(pack.name.prefix(16))-0011", "\(root)/keys/.tmp-abc-99", "\(root)/.tmp-config-1"] {
            XCTAssertTrue(FileManager.default.createFile(atPath: stray, contents: Data([0])), stray)
        }
        try FileManager.default.createDirectory(atPath: "\(root)/keys/\(BackendConformance.fileName(5))",
                                                withIntermediateDirectories: false)
        XCTAssertEqual(try backend.list(.data), [FileInfo(file: pack, size: 2)])
        XCTAssertEqual(try backend.list(.keys), [FileInfo(file: key, size: 1)])
        XCTAssertEqual(try backend.list(.config), [])
    }

    // After many writes, including several of one name at once, no temporary file is left behind.
    func testWritesLeaveNoTemporaryFiles() throws {
        let root = directory.appending("repo")
        let backend = LocalBackend(root: root)
        let files = (0..<40).map { FileName(.data, BackendConformance.fileName(100 + $0 % 20)) }
        DispatchQueue.concurrentPerform(iterations: files.count) { i in
            try? backend.write(files[i], data: seededBytes(count: 4096, seed: UInt64(i % 20)))
        }
        try backend.write(.config, data: [1])
        let leftovers = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
            .filter { ($0 as NSString).lastPathComponent.hasPrefix(".tmp-") }
        XCTAssertEqual(leftovers, [])
        XCTAssertEqual(try backend.list(.data).count, 20)
    }

    // Listing a kind whose folder was never created returns nothing rather than failing.
    func testListOfMissingFolders() throws {
        let backend = LocalBackend(root: directory.appending("never-created"))
        for kind in FileKind.allCases { XCTAssertEqual(try backend.list(kind), [], "\(kind)") }
    }
}
