import XCTest
import SnapCore
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

/// `Repository.loadIndex` with an index cache folder: when the table is used, extended, rebuilt.
final class IndexCacheTests: XCTestCase {
    private var folder: TemporaryDirectory!
    private var backend: MemoryBackend!
    private var writer: Repository!

    override func setUpWithError() throws {
        folder = try TemporaryDirectory(prefix: "snap-index-cache")
        backend = MemoryBackend()
        writer = try makeRepository(on: backend)
    }

    override func tearDown() { folder.remove() }

    private var tablePath: String { folder.appending("\(writer.config.id)/blob-index/table") }

    /// A repository over the same backend whose index table lives in the test's folder.
    private func reader(_ policy: IndexCachePolicy = smallPolicy()) throws -> Repository {
        let repository = Repository(backend: backend, keys: writer.keys, config: writer.config,
                                    indexCacheFolder: folder.appending("\(writer.config.id)/blob-index"))
        try repository.loadIndex(policy: policy)
        return repository
    }

    private static func smallPolicy() -> IndexCachePolicy {
        var policy = IndexCachePolicy()
        policy.minimumTableBlobs = 1
        policy.runRecords = 50
        return policy
    }

    @discardableResult
    private func save(_ packs: [IndexedPack], supersedes: [IndexID] = []) throws -> IndexID {
        IndexID(raw: try writer.saveFile(.index, plaintext: IndexFile(supersedes: supersedes, packs: packs).encoded()))
    }

    private func pack(_ seed: UInt64, first: UInt64, count: Int = 40) -> IndexedPack {
        SyntheticIndex.pack(seed, firstSeed: first, count: count)
    }

    private func assertHolds(_ repository: Repository, exactly packs: [IndexedPack], file: StaticString = #filePath, line: UInt = #line) {
        let expected = Set(packs.flatMap(\.entries).map(\.id))
        XCTAssertEqual(repository.index.count, expected.count, file: file, line: line)
        XCTAssertEqual(Set(repository.index.allBlobIDs()), expected, file: file, line: line)
        for p in packs { for e in p.entries { XCTAssertNotNil(repository.index.lookup(e.id), file: file, line: line) } }
    }

    private func inode(_ path: String) -> UInt64? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.systemFileNumber] as? UInt64
    }

    // First open builds the table; a second open maps the same file without rewriting it.
    func testBuildThenReuse() throws {
        let packs = (0..<6).map { pack(UInt64(10 + 2 * $0), first: UInt64($0) * 1000) }
        try save(Array(packs[0..<3]))
        try save(Array(packs[3...]))
        let first = try reader()
        XCTAssertTrue(first.index.isMapped)
        assertHolds(first, exactly: packs)
        let built = inode(tablePath)
        XCTAssertNotNil(built)
        let second = try reader()
        XCTAssertTrue(second.index.isMapped)
        assertHolds(second, exactly: packs)
        XCTAssertEqual(inode(tablePath), built, "reused, not rebuilt")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.appending("\(writer.config.id)/blob-index"))
        XCTAssertEqual(Set(names), ["table", "CACHEDIR.TAG"])
    }

    // New index files (a backup's) are used beside the table in memory; once there are more
    // than the policy allows, they are merged into a new table that then covers them.
    func testNewIndexFilesExtendTheTable() throws {
        let base = [pack(10, first: 0), pack(12, first: 1000)]
        try save(base)
        _ = try reader()
        let built = inode(tablePath)
        let newer = pack(14, first: 2000)
        let overlapping = pack(16, first: 20, count: 10)  // blobs the table holds, in another pack
        try save([newer, overlapping])
        let extended = try reader()
        XCTAssertTrue(extended.index.isMapped)
        assertHolds(extended, exactly: base + [newer, overlapping])
        XCTAssertEqual(extended.index.lookup(overlapping.entries[0].id)?.pack, base[0].id, "the table's location wins")
        XCTAssertEqual(inode(tablePath), built, "a few new files stay in memory")

        var folding = Self.smallPolicy()
        folding.foldFiles = 0
        let folded = try reader(folding)
        assertHolds(folded, exactly: base + [newer, overlapping])
        XCTAssertNotEqual(inode(tablePath), built, "merged into a new table")
        let table = try MappedIndexTable(path: tablePath)
        XCTAssertEqual(table.files.count, 2)
        XCTAssertEqual(table.recordCount, 120)
        XCTAssertEqual(table.packCount, 4)
        let merged = inode(tablePath)
        _ = try reader()
        XCTAssertEqual(inode(tablePath), merged, "the merged table covers every file")
    }

    // After a prune-like replacement (a file superseding the table's files) and after an
    // index file disappears, the table is rebuilt and holds exactly the live files.
    func testRebuildWhenFilesAreSupersededOrGone() throws {
        let a = pack(10, first: 0), b = pack(12, first: 1000), c = pack(14, first: 2000)
        let first = try save([a]), second = try save([b])
        _ = try reader()
        let replacement = try save([a], supersedes: [first, second])
        let pruned = try reader()
        XCTAssertTrue(pruned.index.isMapped)
        assertHolds(pruned, exactly: [a])
        XCTAssertEqual(try MappedIndexTable(path: tablePath).liveFiles, [replacement])

        // The superseding file is gone: the old files count again.
        try backend.delete(FileName(.index, replacement.hex))
        assertHolds(try reader(), exactly: [a, b])

        // A file the table holds is gone.
        try save([c])
        _ = try reader()
        try backend.delete(FileName(.index, second.hex))
        assertHolds(try reader(), exactly: [a, c])
    }

    // A truncated or garbled table is rejected at open and rebuilt: no crash, same answers.
    func testDamagedTableIsRebuilt() throws {
        let packs = [pack(10, first: 0, count: 300), pack(12, first: 1000, count: 300)]
        try save(packs)
        _ = try reader()
        let original = try Data(contentsOf: URL(fileURLWithPath: tablePath))
        for damage in [{ (d: inout Data) in d = d.prefix(d.count / 2) }, { (d: inout Data) in d[30] ^= 0xFF }] {
            var bytes = original
            damage(&bytes)
            try bytes.write(to: URL(fileURLWithPath: tablePath))
            assertHolds(try reader(), exactly: packs)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: tablePath)), original, "rebuilt the same")
        }
    }

    // A damaged record goes unnoticed at open. The search that meets its bucket deletes the
    // file (the next open rebuilds it), checks every other bucket, and reads the damaged ones'
    // records again from the index files: every blob is still found where it is, by lookups
    // and by walks, at the positions the table gives them.
    func testDamagedBucketsAreAnsweredFromTheIndexFilesAndTheTableRebuilt() throws {
        let packs = [pack(10, first: 0, count: 300), pack(12, first: 1000, count: 300)]
        try save(packs)
        _ = try reader()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: tablePath))
        bytes[IndexTableFormat.recordsOffset + 100] ^= 0x04  // record 2's ID
        bytes[IndexTableFormat.recordsOffset + 48 * 400 + 40] ^= 0x01  // record 400's offset
        try bytes.write(to: URL(fileURLWithPath: tablePath))
        let damaged = try reader()
        XCTAssertTrue(damaged.index.isMapped)
        for p in packs {
            for e in p.entries {
                let location = try XCTUnwrap(damaged.index.lookup(e.id))
                XCTAssertEqual(location.pack, p.id)
                XCTAssertEqual(location.entry, e)
            }
        }
        XCTAssertTrue(try XCTUnwrap(damaged.index.mappedTable).isDamaged)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tablePath))
        assertHolds(damaged, exactly: packs)
        assertHolds(try reader(), exactly: packs)
    }

    // Where the file cannot be deleted (a read-only cache folder), every command meets the
    // damage again, and every command still finds every blob.
    func testADamagedTableThatCannotBeDeletedStillFindsEveryBlob() throws {
        let packs = [pack(10, first: 0, count: 300), pack(12, first: 1000, count: 300)]
        try save(packs)
        _ = try reader()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: tablePath))
        bytes[IndexTableFormat.recordsOffset + 100] ^= 0x04
        try bytes.write(to: URL(fileURLWithPath: tablePath))
        // Another link keeps the damaged file where the table is deleted: what a read-only
        // folder does (root ignores the folder's mode, so the test cannot rely on chmod).
        let kept = folder.appending("kept-table")
        XCTAssertEqual(link(tablePath, kept), 0)
        for _ in 0..<2 {
            let repository = try reader()
            assertHolds(repository, exactly: packs)
            XCTAssertTrue(try XCTUnwrap(repository.index.mappedTable).isDamaged)
            XCTAssertEqual(rename(kept, tablePath), 0)
            XCTAssertEqual(link(tablePath, kept), 0)
        }
    }

    // When the index files cannot be read again either, the damaged bucket looks empty: its
    // blobs look unindexed (a backup stores them again), and nothing else is lost.
    func testADamagedBucketThatCannotBeReadAgainLooksEmpty() throws {
        let packs = [pack(10, first: 0, count: 300), pack(12, first: 1000, count: 300)]
        let id = try save(packs)
        _ = try reader()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: tablePath))
        bytes[IndexTableFormat.recordsOffset + 100] ^= 0x04
        try bytes.write(to: URL(fileURLWithPath: tablePath))
        let repository = try reader()
        try backend.delete(FileName(.index, id.hex))
        let found = packs.flatMap(\.entries).filter { repository.index.contains($0.id) }.count
        XCTAssertLessThan(found, 600)
        XCTAssertGreaterThanOrEqual(found, 590, "only the damaged bucket is left out")
    }

    // Below the threshold the index stays in memory and no table is written.
    func testSmallRepositoriesStayInMemory() throws {
        let packs = [pack(10, first: 0)]
        try save(packs)
        let small = try reader(IndexCachePolicy())
        XCTAssertFalse(small.index.isMapped)
        assertHolds(small, exactly: packs)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appending(writer.config.id)))
    }

    // Without a cache folder (--no-cache) a large index is still a mapped table, built in a
    // private temporary folder that is gone by the time loadIndex returns.
    func testWithoutACacheFolderTheTableIsTemporary() throws {
        let packs = (0..<4).map { pack(UInt64(10 + 2 * $0), first: UInt64($0) * 1000) }
        try save(Array(packs[0..<2]))
        try save(Array(packs[2...]))
        let root = folder.appending("tmp")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
        // Left by builds that were killed: one a day old is removed, a recent one (a build
        // running now) is not.
        let fm = FileManager.default
        for name in ["snap-index-old", "snap-index-now"] { try fm.createDirectory(atPath: "\(root)/\(name)", withIntermediateDirectories: false) }
        try fm.setAttributes([.modificationDate: Date().addingTimeInterval(-2 * 86_400)], ofItemAtPath: "\(root)/snap-index-old")
        var policy = Self.smallPolicy()
        policy.temporaryRoot = root
        try writer.loadIndex(policy: policy)
        XCTAssertTrue(writer.index.isMapped)
        assertHolds(writer, exactly: packs)
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: root), ["snap-index-now"], "nothing of this load outlives it")
    }

    // A temporary folder that cannot be made leaves the index in memory, and the command works.
    func testWithoutAWritableTemporaryFolderTheIndexStaysInMemory() throws {
        let packs = [pack(10, first: 0), pack(12, first: 1000)]
        try save(packs)
        var policy = Self.smallPolicy()
        policy.temporaryRoot = folder.appending("missing/deeper")
        try writer.loadIndex(policy: policy)
        XCTAssertFalse(writer.index.isMapped)
        assertHolds(writer, exactly: packs)
    }
}
