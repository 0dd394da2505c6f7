import XCTest
import SnapCore
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

/// `Repository.loadIndex` when an index file it listed is superseded and deleted before it
/// reads it, as a prune beside does (campaign 16, F3: `rewrite` then failed with "blob … is
/// not in any index" while `check` found nothing wrong).
final class IndexRelistTests: XCTestCase {
    /// Runs `supersede` instead of the first read of `victim`, which then looks deleted.
    private final class SupersedingBackend: ForwardingBackend, @unchecked Sendable {
        var victim: FileName?
        var supersede: (() throws -> Void)?
        private(set) var indexListings = 0

        override func list(_ kind: FileKind) throws -> [FileInfo] {
            if kind == .index { indexListings += 1 }
            return try base.list(kind)
        }

        override func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
            if file == victim, let supersede {
                self.supersede = nil
                try supersede()
            }
            return try base.read(file, range: range)
        }
    }

    private func check(cacheFolder: Bool) throws {
        let memory = MemoryBackend()
        let writer = try makeRepository(on: memory)
        let packs = (0..<4).map { SyntheticIndex.pack(UInt64(20 + 2 * $0), firstSeed: UInt64($0) * 1000, count: 40) }
        _ = try writer.saveFile(.index, plaintext: IndexFile(packs: Array(packs[0..<2])).encoded())
        let old = IndexID(raw: try writer.saveFile(.index, plaintext: IndexFile(packs: Array(packs[2...])).encoded()))

        let backend = SupersedingBackend(memory)
        backend.victim = FileName(.index, old.hex)
        backend.supersede = {
            // A prune's order: the replacement first, then the deletion.
            _ = try writer.saveFile(.index, plaintext: IndexFile(supersedes: [old], packs: Array(packs[2...])).encoded())
            try memory.delete(FileName(.index, old.hex))
        }
        let folder = try TemporaryDirectory(prefix: "snap-index-relist")
        defer { folder.remove() }
        let reader = Repository(backend: backend, keys: writer.keys, config: writer.config,
                                indexCacheFolder: cacheFolder ? folder.appending("blob-index") : nil)
        var policy = IndexCachePolicy()
        policy.minimumTableBlobs = cacheFolder ? 1 : 1 << 30
        var skipped: [IndexID] = []
        try reader.loadIndex(policy: policy) { id, _ in skipped.append(id) }

        XCTAssertNil(backend.supersede, "the index file was not read")
        XCTAssertEqual(backend.indexListings, 2, "index/ is listed again once")
        XCTAssertEqual(skipped, [], "a superseded file is not damaged")
        XCTAssertEqual(reader.index.isMapped, cacheFolder)
        let expected = Set(packs.flatMap(\.entries).map(\.id))
        XCTAssertEqual(Set(reader.index.allBlobIDs()), expected)
        for pack in packs { for entry in pack.entries { XCTAssertEqual(reader.index.lookup(entry.id)?.pack, pack.id) } }
    }

    func testSupersededFileIsFoundByListingAgain() throws { try check(cacheFolder: false) }

    func testSupersededFileIsFoundByListingAgainWithTheTable() throws { try check(cacheFolder: true) }

    // A caller that asks for its own listing only (check) gets no second listing.
    func testNoRelistingWhenAskedForNone() throws {
        let memory = MemoryBackend()
        let writer = try makeRepository(on: memory)
        let pack = SyntheticIndex.pack(7, firstSeed: 0, count: 10)
        let id = IndexID(raw: try writer.saveFile(.index, plaintext: IndexFile(packs: [pack]).encoded()))
        let backend = SupersedingBackend(memory)
        backend.victim = FileName(.index, id.hex)
        backend.supersede = { try memory.delete(FileName(.index, id.hex)) }
        let reader = Repository(backend: backend, keys: writer.keys, config: writer.config)
        try reader.loadIndex(listed: [id], relistings: 0)
        XCTAssertEqual(backend.indexListings, 0)
        XCTAssertEqual(reader.index.count, 0)
    }
}
