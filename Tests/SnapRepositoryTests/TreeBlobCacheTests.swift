import Foundation
import SnapCore
import SnapStorage
import SnapTestSupport
import XCTest
@testable import SnapRepository

/// Tree blobs through the local metadata cache: read by range from the cached copy of
/// their pack, and a damaged copy replaced.
final class TreeBlobCacheTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory.remove() }

    /// Saves two trees, in one pack, in a new repository on `backend`.
    private func twoTrees(on backend: MemoryBackend) throws -> (trees: [(BlobID, [UInt8])], pack: FileName, copy: String) {
        let repository = try makeRepository(on: backend)
        let plaintexts = [compressibleBytes(count: 20_000, seed: 1), compressibleBytes(count: 30_000, seed: 2)]
        let ids = try saveAndFinish(repository, plaintexts.map { (.tree, $0) })
        let packs = try backend.list(.data)
        XCTAssertEqual(packs.count, 1)
        let pack = try XCTUnwrap(packs.first?.file)
        let copy = LocalBackend(root: directory.appending(repository.config.id)).path(of: pack)
        return (Array(zip(ids, plaintexts)), pack, copy)
    }

    private func open(_ backend: Backend) throws -> Repository {
        let repository = try Repository.open(backend: backend, password: "correct horse", cacheRoot: directory.path)
        try repository.loadIndex()
        return repository
    }

    // Reading the trees keeps their pack whole; later, with the repository's pack damaged,
    // both trees still come from the copy.
    func testTreesAreReadFromTheCachedPack() throws {
        let backend = MemoryBackend()
        let (trees, pack, copy) = try twoTrees(on: backend)
        let repository = try open(backend)
        for (id, plaintext) in trees { XCTAssertEqual(try repository.loadBlob(id), plaintext) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: copy)), Data(try backend.read(pack)))

        backend.tamper(pack) { bytes in for i in bytes.indices { bytes[i] ^= 0x55 } }
        let later = try open(backend)
        for (id, plaintext) in trees { XCTAssertEqual(try later.loadBlob(id), plaintext, "from the copy") }
    }

    // A tree that fails authentication in the copy is read from the repository, and the
    // damaged copy is replaced by the repository's pack.
    func testDamagedCopyIsReplaced() throws {
        let backend = MemoryBackend()
        let (trees, pack, copy) = try twoTrees(on: backend)
        for (id, _) in trees { _ = try open(backend).loadBlob(id) }
        var damaged = try Data(contentsOf: URL(fileURLWithPath: copy))
        for i in stride(from: 0, to: damaged.count, by: 97) { damaged[i] ^= 1 }
        try damaged.write(to: URL(fileURLWithPath: copy))

        let repository = try open(backend)
        for (id, plaintext) in trees { XCTAssertEqual(try repository.loadBlob(id), plaintext) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: copy)), Data(try backend.read(pack)), "the copy is repaired")
    }
}
