import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

final class RepairIndexTests: XCTestCase {
    // All index files deleted: --dry-run writes nothing; the repair restores a repository that
    // passes check --read-data and restores every file; a second run changes nothing.
    func testRebuildAfterDeletingAllIndexFiles() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        try Disk.write(f.at("added.bin"), seededBytes(count: 80_000, seed: 12))
        let backup = try f.backup()
        let packs = try f.indexedPacks()
        for info in try f.backend.list(.index) { try f.backend.delete(info.file) }
        XCTAssertFalse(try f.check().isHealthy)

        let before = try f.files()
        let dry = try f.repairer().repairIndex(dryRun: true)
        XCTAssertEqual(try f.files(), before, "--dry-run wrote or deleted something")
        XCTAssertFalse(dry.wasComplete)
        XCTAssertEqual(Set(dry.packsAdded), packs)
        XCTAssertEqual(dry.writtenFiles, [])

        let result = try f.repairer().repairIndex(dryRun: false)
        XCTAssertEqual(result.packs, packs.count)
        XCTAssertEqual(Set(result.packsAdded), packs)
        XCTAssertEqual(result.packsDropped, [])
        XCTAssertEqual(result.unreadablePacks.count, 0)
        XCTAssertEqual(result.writtenFiles.count, 1)
        XCTAssertEqual(Set(try f.backend.list(.index).map(\.file.name)), Set(result.writtenFiles.map(\.hex)))
        XCTAssertEqual(try f.files()[.locks], [], "the repair's lock is removed")

        let report = try f.check(readData: .all)
        XCTAssertTrue(report.isHealthy, report.summary)
        let restore = try f.restore(backup.snapshot.tree)
        XCTAssertTrue(restore.succeeded, "\(restore.errors) \(restore.damagedBlobs)")
        let original = try Disk.listing(f.src)
        assertSameListing(try Disk.listing(f.restored(f.src)), original)

        let after = try f.files()
        let again = try f.repairer().repairIndex(dryRun: false)
        XCTAssertTrue(again.wasComplete)
        XCTAssertEqual(again.writtenFiles, [])
        XCTAssertEqual(try f.files(), after, "a second repair changed the repository")
    }

    // A healthy index is left alone.
    func testCompleteIndexIsLeftAlone() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        try f.backup()
        let before = try f.files()
        let result = try f.repairer().repairIndex(dryRun: false)
        XCTAssertTrue(result.wasComplete)
        XCTAssertEqual(try f.files(), before)
    }

    // A damaged index file and a missing pack: the repair supersedes and deletes every old
    // index file, drops the missing pack, and names a pack whose header does not read.
    func testDamagedIndexFileMissingPackAndUnreadableHeader() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let entries = try f.entries(backup.snapshot.tree)
        let missing = try f.location(of: try XCTUnwrap(entries[f.at("big-3.bin")]).content.last!).pack
        // Another pack: concurrent saves fill packs of their own, so which chunks share a pack varies.
        var other: PackID?
        for id in try XCTUnwrap(entries[f.at("big-1.bin")]).content + XCTUnwrap(entries[f.at("big-2.bin")]).content {
            let pack = try f.location(of: id).pack
            if pack != missing { other = pack; break }
        }
        let broken = try XCTUnwrap(other)
        let oldIndex = Set(try f.backend.list(.index).map(\.file))
        let indexPath = Disk.bytes(f.backend.path(of: try XCTUnwrap(oldIndex.first)))
        var bytes = try Disk.read(indexPath)
        bytes[30] ^= 1
        try Disk.write(indexPath, bytes)
        XCTAssertNotEqual(missing, broken)
        let allPacks = Set(try f.backend.list(.data).compactMap { PackID(hex: $0.file.name) })
        try f.delete(missing)
        let brokenSize = try f.backend.stat(FileName(.data, broken.hex)).size
        try f.flipByte(in: broken, at: brokenSize - 40)  // inside the encrypted header

        let result = try f.repairer().repairIndex(dryRun: false)
        XCTAssertEqual(result.unreadableIndexFiles.count, 1)
        XCTAssertEqual(result.unreadablePacks.map(\.pack), [broken])
        XCTAssertTrue(result.unreadablePacks[0].reason.contains("authentication"), result.unreadablePacks[0].reason)
        XCTAssertEqual(Set(result.supersededFiles.map { FileName(.index, $0.hex) }), oldIndex)
        XCTAssertTrue(Set(try f.backend.list(.index).map(\.file)).isDisjoint(with: oldIndex), "old index files are deleted")
        XCTAssertEqual(try f.indexedPacks(), allPacks.subtracting([missing, broken]))

        // What is left is consistent: no index problem, only the blobs of the two packs are lost.
        let report = try f.check()
        XCTAssertEqual(report.findings.filter { $0.severity == .error }, [], report.summary)
        XCTAssertTrue(report.damagedBlobs.allSatisfy { $0.problem == .missing || $0.problem == .unindexed }, report.summary)
        let again = try f.repairer().repairIndex(dryRun: false)
        XCTAssertTrue(again.wasComplete)
        XCTAssertEqual(again.unreadablePacks.map(\.pack), [broken], "the unreadable pack is named every time")
    }

    // A pack that a prune condemned and no index names is not indexed again (backups do not
    // index such packs either), but one a live index still names is kept.
    func testCondemnedPacksAreNotIndexedAgain() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        let before = Set(try f.backend.list(.index).map(\.file))
        let orphan = seededBytes(count: 3000, seed: 42)
        let repository = try f.openWithIndex()
        let saver = BlobSaver(repository: repository)
        try saver.save(.data, id: repository.keys.blobID(of: orphan), plaintext: orphan)
        _ = try saver.finish()
        for file in Set(try f.backend.list(.index).map(\.file)).subtracting(before) { try f.backend.delete(file) }
        let condemned = Set(try f.backend.list(.data).compactMap { PackID(hex: $0.file.name) }).subtracting(try f.indexedPacks())
        XCTAssertEqual(condemned.count, 1)
        let live = try XCTUnwrap(try f.indexedPacks().first)
        _ = try Coordination.write(CoordinationRecord(kind: .deletion, hostname: "h", pid: 1, created: WallClock.nowText,
                                                      refreshed: WallClock.nowText, packs: Array(condemned) + [live]), in: try f.open())

        let result = try f.repairer().repairIndex(dryRun: false)
        XCTAssertTrue(result.wasComplete, "the live index already names every pack it should")
        XCTAssertEqual(Set(result.condemnedPacks), condemned)
        XCTAssertTrue(try f.indexedPacks().contains(live))
        XCTAssertTrue(try f.indexedPacks().isDisjoint(with: condemned))
    }

    // A pack whose header cannot be read but that the old index describes keeps the blobs
    // that still read intact: all of them when bytes were appended (its trailer moved),
    // those before the cut when it was cut short. Nothing intact is dropped from the index.
    func testUnreadableHeaderKeepsTheIntactBlobsTheOldIndexNamed() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let entries = try f.entries(backup.snapshot.tree)
        let appended = try f.location(of: try XCTUnwrap(try XCTUnwrap(entries[f.at("big-1.bin")]).content.first)).pack
        var cut: PackID?
        for id in try XCTUnwrap(entries[f.at("big-3.bin")]).content where try f.location(of: id).pack != appended {
            cut = try f.location(of: id).pack
            break
        }
        let cutPack = try XCTUnwrap(cut)
        let repository = try f.open()
        let described = try f.backend.list(.index).flatMap { info in
            try repository.loadIndexFile(try XCTUnwrap(IndexID(hex: info.file.name))).packs
        }
        let appendedCount = try XCTUnwrap(described.first { $0.id == appended }).entries.count
        let cutEntries = try XCTUnwrap(described.first { $0.id == cutPack }).entries
        XCTAssertGreaterThan(cutEntries.count, 1)
        try Disk.write(f.packPath(appended), try Disk.read(f.packPath(appended)) + Array(repeating: 0x55, count: 100))
        let middle = cutEntries.sorted { $0.offset < $1.offset }[cutEntries.count / 2]
        try f.truncate(cutPack, to: Int(middle.offset) + 10)

        let result = try f.repairer().repairIndex(dryRun: false)
        XCTAssertEqual(Set(result.unreadablePacks.map(\.pack)), [appended, cutPack])
        let salvaged = Dictionary(result.salvagedPacks.map { ($0.pack, $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(salvaged[appended]?.kept, appendedCount)
        XCTAssertEqual(salvaged[cutPack]?.kept, cutEntries.count / 2, "the blobs before the cut")
        XCTAssertEqual(salvaged[cutPack]?.described, cutEntries.count)
        XCTAssertTrue(try f.indexedPacks().isSuperset(of: [appended, cutPack]))

        // Every file without a chunk past the cut restores whole; those with one are named.
        let lost = Set(cutEntries.filter { $0.offset >= middle.offset }.map { $0.id })
        let restore = try f.restore(backup.snapshot.tree)
        XCTAssertTrue(Set(restore.damagedBlobs.map(\.blob)).isSubset(of: lost), "\(restore.damagedBlobs)")
        var whole = 0
        for (path, node) in entries where node.type == .file {
            let reported = restore.damagedBlobs.contains { $0.files.contains(PathBytes.display(path)) }
            if node.content.contains(where: lost.contains) {
                XCTAssertTrue(reported, PathBytes.display(path))
            } else {
                XCTAssertFalse(reported, PathBytes.display(path))
                XCTAssertTrue(try Disk.read(f.restored(path)) == (try Disk.read(path)), PathBytes.display(path))
                whole += 1
            }
        }
        XCTAssertGreaterThan(whole, 0)
        XCTAssertTrue(try f.repairer().repairIndex(dryRun: false).wasComplete, "a second run changes nothing")
    }
}
