import XCTest
import Foundation
import SnapCore
import SnapChunker
import SnapCrypto
import SnapStorage
@testable import SnapRepository

/// A repository written once by `testWriteFixture` (run with SNAP_WRITE_FIXTURE=1) and committed,
/// so that a change to the on-disk format that breaks existing repositories fails these tests.
final class FixtureRepositoryTests: XCTestCase {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    private static let root = fixtures.appendingPathComponent("repo-v1").path
    private static let idsFile = fixtures.appendingPathComponent("repo-v1.json")
    private static let password = "fixture-password"

    private static let hello = Array("hello fixture\n".utf8)
    /// 100 KiB of a fixed, compressible pattern: runs of letters whose lengths vary slowly.
    private static let pattern: [UInt8] = (0..<(100 << 10)).map { i in UInt8(ascii: "a") + UInt8((i / 3 + i / 1024) % 26) }

    private struct BlobIDs: Codable, Equatable {
        var hello: String
        var pattern: String
    }

    // Not a test: regenerates Fixtures/repo-v1 and repo-v1.json when SNAP_WRITE_FIXTURE=1.
    func testWriteFixture() throws {
        guard ProcessInfo.processInfo.environment["SNAP_WRITE_FIXTURE"] == "1" else {
            throw XCTSkip("set SNAP_WRITE_FIXTURE=1 to rewrite the committed fixture repository")
        }
        try? FileManager.default.removeItem(atPath: Self.root)
        var options = Repository.InitOptions()
        options.keyCost = cheapKeyCost
        let repository = try Repository.initialize(backend: LocalBackend(root: Self.root), password: Self.password, options: options,
                                                   hostname: "fixture-host", username: "fixture", now: "2025-01-01T00:00:00Z")
        let ids = try saveAndFinish(repository, [(.data, Self.hello), (.data, Self.pattern)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try (encoder.encode(BlobIDs(hello: ids[0].hex, pattern: ids[1].hex)) + Data("\n".utf8)).write(to: Self.idsFile)
    }

    // The committed repository opens with its password, its index loads, and both blobs decode to the exact plaintexts.
    func testFixtureRepositoryStillReads() throws {
        let ids = try JSONDecoder().decode(BlobIDs.self, from: Data(contentsOf: Self.idsFile))
        let backend = LocalBackend(root: Self.root)
        let repository = try Repository.open(backend: backend, password: Self.password)
        XCTAssertEqual(repository.config.version, 1)
        XCTAssertEqual(repository.config.packSize, 16 << 20)
        XCTAssertEqual(repository.config.compression, .init(algorithm: "zstd", level: 3))
        XCTAssertEqual(repository.config.chunker, ChunkerParameters(minSize: 512 << 10, averageSize: 1 << 20, maxSize: 8 << 20))
        try repository.loadIndex()
        XCTAssertEqual(repository.index.count, 2)

        let helloID = try XCTUnwrap(BlobID(hex: ids.hello))
        let patternID = try XCTUnwrap(BlobID(hex: ids.pattern))
        XCTAssertEqual(repository.keys.blobID(of: Self.hello), helloID)
        XCTAssertEqual(repository.keys.blobID(of: Self.pattern), patternID)
        XCTAssertEqual(try repository.loadBlob(helloID), Self.hello)
        XCTAssertEqual(try repository.loadBlob(patternID), Self.pattern)
        XCTAssertTrue(try XCTUnwrap(repository.index.lookup(patternID)).entry.isCompressed)

        let packs = try backend.list(.data)
        XCTAssertEqual(packs.count, 1)
        for info in try packs + backend.list(.index) + backend.list(.keys) {
            XCTAssertEqual(Hex.encode(SHA256.hash(try backend.read(info.file))), info.file.name, "\(info.file)")
        }
        let packInfo = try XCTUnwrap(packs.first)
        let pack = try XCTUnwrap(PackID(hex: packInfo.file.name))
        let header = try PackFormat.readHeader(of: pack, size: packInfo.size, from: backend, keys: repository.keys)
        XCTAssertEqual(Set(header.entries.map(\.id)), [helloID, patternID])
    }

    // The fixture rejects another password like any repository.
    func testFixtureRejectsWrongPassword() throws {
        guard case .wrongPassword? = errorThrown(by: { _ = try Repository.open(backend: LocalBackend(root: Self.root), password: "nope") })
                as? RepositoryError else { return XCTFail("expected wrongPassword") }
    }
}
