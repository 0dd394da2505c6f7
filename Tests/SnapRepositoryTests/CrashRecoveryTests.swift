import XCTest
import SnapCore
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

final class CrashRecoveryTests: XCTestCase {
    private func assertNotFound(_ repository: Repository, _ id: BlobID, _ message: String, line: UInt = #line) {
        guard case .blobNotFound? = errorThrown(by: { _ = try repository.loadBlob(id) }) as? RepositoryError else {
            return XCTFail(message, line: line)
        }
    }

    // A backup that dies after a full pack is uploaded but before finish: the pack is indexed by indexUnindexedPacks and its blobs load.
    func testPackUploadedBeforeACrashIsRecovered() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend, password: "pw", options: cheapOptions(packSize: 1 << 20))
        let blobs = (0..<20).map { seededBytes(count: 64 << 10, seed: 500 + UInt64($0)) }
        let ids = blobs.map { repository.keys.blobID(of: $0) }
        let saver = BlobSaver(repository: repository)
        for (id, blob) in zip(ids, blobs) {
            XCTAssertTrue(saver.reserve(id))
            try saver.save(.data, id: id, plaintext: blob)
        }
        // The saver is abandoned here without finish(), as if the process had been killed.
        XCTAssertEqual(try backend.list(.data).count, 1, "the first MiB filled and uploaded one pack")
        XCTAssertEqual(try backend.list(.index).count, 0)

        let restarted = try Repository.open(backend: backend, password: "pw")
        try restarted.loadIndex()
        for id in ids { assertNotFound(restarted, id, "nothing is indexed before recovery") }
        XCTAssertEqual(try restarted.indexUnindexedPacks(), 1)
        XCTAssertEqual(try backend.list(.index).count, 1)
        let packBlobs = ids.indices.filter { restarted.index.contains(ids[$0]) }
        XCTAssertEqual(packBlobs, Array(0..<packBlobs.count), "the pack holds the first blobs saved")
        XCTAssertEqual(packBlobs.count, 16, "sixteen 64 KiB blobs (plus tags) reach 1 MiB")
        for n in packBlobs { XCTAssertTrue(sameBytes(try restarted.loadBlob(ids[n]), blobs[n]), "blob \(n)") }
        for n in packBlobs.count..<ids.count { assertNotFound(restarted, ids[n], "blob \(n) was never uploaded") }

        let later = try Repository.open(backend: backend, password: "pw")
        try later.loadIndex()
        XCTAssertEqual(later.index.count, packBlobs.count, "the recovery index file is persistent")
        XCTAssertEqual(try later.indexUnindexedPacks(), 0)
        XCTAssertEqual(try backend.list(.index).count, 1, "nothing new to index, no new index file")
    }

    // With every index file deleted, both the data and the tree pack are re-indexed and keep their blob types.
    func testDeletedIndexFilesAreRebuiltFromPackHeaders() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend, password: "pw")
        let blobs: [(BlobType, [UInt8])] = [(.data, compressibleBytes(count: 5000)), (.tree, Array("{}".utf8)), (.data, seededBytes(count: 777, seed: 3))]
        let ids = try saveAndFinish(repository, blobs)
        for info in try backend.list(.index) { try backend.delete(info.file) }

        let restarted = try Repository.open(backend: backend, password: "pw")
        try restarted.loadIndex()
        XCTAssertEqual(restarted.index.count, 0)
        XCTAssertEqual(try restarted.indexUnindexedPacks(), 2)
        let indexFiles = try backend.list(.index)
        XCTAssertEqual(indexFiles.count, 1)
        let written = try restarted.loadIndexFile(try XCTUnwrap(IndexID(hex: try XCTUnwrap(indexFiles.first).file.name)))
        XCTAssertEqual(Set(written.packs.map(\.id.hex)), Set(try backend.list(.data).map(\.file.name)))
        for (n, id) in ids.enumerated() {
            XCTAssertEqual(try restarted.loadBlob(id), blobs[n].1)
            XCTAssertEqual(restarted.index.lookup(id)?.entry.type, blobs[n].0)
        }
    }

    // A pack whose header fails authentication is skipped, not indexed, while a good one beside it is recovered.
    func testUnreadablePackIsSkipped() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend, password: "pw")
        let good = try saveAndFinish(repository, [(.data, [1, 2, 3])])
        let bad = try saveAndFinish(repository, [(.data, [4, 5, 6])])
        for info in try backend.list(.index) { try backend.delete(info.file) }
        let badPack = try XCTUnwrap(repository.index.lookup(bad[0])).pack
        backend.tamper(FileName(.data, badPack.hex)) { $0[$0.count - 30] ^= 0x40 }  // inside the header's tag

        let restarted = try Repository.open(backend: backend, password: "pw")
        try restarted.loadIndex()
        XCTAssertEqual(try restarted.indexUnindexedPacks(), 1)
        XCTAssertEqual(try restarted.loadBlob(good[0]), [1, 2, 3])
        assertNotFound(restarted, bad[0], "a blob of the damaged pack must stay unindexed")
    }
}
