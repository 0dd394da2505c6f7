import XCTest
import SnapCore
import SnapRepository
import SnapStorage
@testable import SnapEngine

final class PackReaderTests: XCTestCase {
    // Prune's repacking reads blobs out of a pack in bounded stretches: whatever the stretch
    // size, every chosen blob comes out once, whole and in pack order, and others are skipped.
    func testChosenBlobsComeOutWholeInStretchesOfAnySize() throws {
        let repository = try makeEngineRepository(on: MemoryBackend())
        let saver = BlobSaver(repository: repository)
        let ids = BlobIDHasher(keys: repository.keys)
        var plaintexts: [BlobID: [UInt8]] = [:]
        for n in 0..<40 {
            let bytes = (0..<(1_000 + n * 37)).map { UInt8(truncatingIfNeeded: $0 &* (n + 1) &+ n) }
            let id = bytes.withUnsafeBytes { ids.id(of: $0) }
            XCTAssertTrue(saver.reserve(id))
            try saver.save(.data, id: id, plaintext: bytes)
            plaintexts[id] = bytes
        }
        _ = try saver.finish()
        var packs: [IndexedPack] = []
        try IndexState.load(from: repository).forEachPack(in: repository) { packs.append($0) }
        let pack = try XCTUnwrap(packs.first { $0.entries.count == 40 }, "\(packs.map(\.entries.count))")
        // Every third blob, given out of order.
        let chosen = pack.entries.sorted { $0.offset < $1.offset }.enumerated().filter { $0.offset % 3 != 1 }.map(\.element)
        for stretch in [1, 2_500, 20_000, 1 << 20] {
            var seen: [(BlobID, [UInt8])] = []
            try PackReader.forEachBlob(of: pack, entries: chosen.reversed(), repository: repository, stretchBytes: stretch) { entry, plaintext in
                seen.append((entry.id, plaintext))
            }
            XCTAssertEqual(seen.map(\.0), chosen.map(\.id), "stretch \(stretch)")
            for (id, plaintext) in seen { XCTAssertEqual(plaintext, plaintexts[id], "stretch \(stretch)") }
        }
    }
}
