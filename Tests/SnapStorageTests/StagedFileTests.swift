import Foundation
import Glibc
@testable import SnapStorage
import SnapTestSupport
import XCTest

final class StagedFileTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory.remove() }

    private func inode(ofDescriptor fd: Int32) -> ino_t {
        var st = stat()
        XCTAssertEqual(fstat(fd, &st), 0)
        return st.st_ino
    }

    private func inode(atPath path: String) -> ino_t? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_ino : nil
    }

    // Appended bytes read back whole, by range, and piece by piece in order.
    func testAppendedBytesReadBackInPieces() throws {
        let data = seededBytes(count: 2500, seed: 1)
        let file = try StagedFile.create(in: directory.path)
        try file.append(Array(data[..<1]))
        try file.append(Array(data[1...]))
        XCTAssertEqual(file.size, 2500)
        XCTAssertEqual(try file.readAll(), data)
        XCTAssertEqual(try file.read(1000..<1003), Array(data[1000..<1003]))
        var pieces: [[UInt8]] = []
        try file.forEachPiece(pieceSize: 1000) { pieces.append(Array($0)) }
        XCTAssertEqual(pieces.map(\.count), [1000, 1000, 500])
        XCTAssertEqual(Array(pieces.joined()), data)
    }

    // A staged file has no name in its folder, so a killed backup leaves nothing behind.
    func testStagedFileLeavesNoNameBehind() throws {
        let file = try StagedFile.create(in: directory.path)
        try file.append([1, 2, 3])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }

    // A missing folder is a clear, permanent error naming the folder.
    func testMissingFolderIsAClearError() {
        XCTAssertThrowsError(try StagedFile.create(in: directory.appending("absent"))) { error in
            guard case StorageError.permanent = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(directory.appending("absent")), "\(error)")
        }
    }

    // A local backend's own staged file is linked into place: the stored pack is the staged
    // inode, and the data folder holds nothing else.
    func testLocalBackendLinksItsOwnStagedFile() throws {
        let backend = LocalBackend(root: directory.appending("repo"))
        let staged = try backend.makeStagedFile()
        XCTAssertNotNil(staged.linkableIn, "O_TMPFILE works on this file system")
        let data = seededBytes(count: 100_000, seed: 2)
        try staged.append(data)
        let file = FileName(.data, BackendConformance.fileName(1))
        try backend.write(file, staged: staged)
        XCTAssertEqual(inode(atPath: backend.path(of: file)), inode(ofDescriptor: staged.descriptor))
        XCTAssertEqual(try backend.read(file), data)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.appending("repo/data")),
                       [String(file.name.prefix(2))])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.appending("repo/data/\(file.name.prefix(2))")),
                       [file.name])
    }

    // A file staged by another backend (another replica) is copied, never hard-linked:
    // damage to one replica's pack must not reach the other's.
    func testAnotherBackendsStagedFileIsCopied() throws {
        let first = LocalBackend(root: directory.appending("a")), second = LocalBackend(root: directory.appending("b"))
        let staged = try first.makeStagedFile()
        let data = seededBytes(count: 3 << 20, seed: 3)
        try staged.append(data)
        let file = FileName(.data, BackendConformance.fileName(2))
        try second.write(file, staged: staged)
        try first.write(file, staged: staged)
        XCTAssertEqual(inode(atPath: first.path(of: file)), inode(ofDescriptor: staged.descriptor))
        XCTAssertNotEqual(inode(atPath: second.path(of: file)), inode(ofDescriptor: staged.descriptor))
        XCTAssertEqual(try second.read(file), data)
    }

    // A mirror stages in its first replica and stores the staged bytes on every replica,
    // each its own copy.
    func testMirrorWritesTheStagedFileToEveryReplica() throws {
        let first = LocalBackend(root: directory.appending("a")), second = LocalBackend(root: directory.appending("b"))
        let mirror = MirrorBackend(replicas: [Replica(name: "a", backend: first), Replica(name: "b", backend: second)])
        let staged = try mirror.makeStagedFile()
        XCTAssertEqual(staged.linkableIn, directory.appending("a/data"))
        let data = seededBytes(count: 50_000, seed: 4)
        try staged.append(data)
        let file = FileName(.data, BackendConformance.fileName(3))
        try mirror.write(file, staged: staged)
        XCTAssertEqual(try first.read(file), data)
        XCTAssertEqual(try second.read(file), data)
        XCTAssertNotEqual(inode(atPath: first.path(of: file)), inode(atPath: second.path(of: file)))
    }

    // A damaging fault on a staged write stores the damaged bytes, as for an in-memory write.
    func testFaultInjectionDamagesStagedWrites() throws {
        let base = MemoryBackend()
        let faulty = FaultInjectingBackend(base, rules: [FaultRule(.write, .truncate, calls: [1])])
        let staged = try faulty.makeStagedFile()
        try staged.append(seededBytes(count: 1000, seed: 5))
        let file = FileName(.data, BackendConformance.fileName(4))
        try faulty.write(file, staged: staged)
        XCTAssertEqual(try base.read(file).count, 500)
        XCTAssertEqual(faulty.injected(.write), 1)
    }
}
