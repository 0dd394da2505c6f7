import XCTest
import SnapCore
import SnapCrypto
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// `repair packs`: a prune that rewrites the named packs whatever their unused share,
/// copying what still reads intact and leaving every other pack alone.
final class RepairPacksTests: XCTestCase {
    private func rewrite(_ packs: Set<PackID>, in f: CheckFixture, dryRun: Bool = false) throws -> (PruneResult, [String]) {
        var options = PruneOptions(hostname: "test-host")
        options.rewrite = packs
        options.rewriteOnly = true
        options.dryRun = dryRun
        var messages: [String] = []
        let result = try Pruner(repository: try f.open(), options: options) { messages.append($0) }.run()
        return (result, messages)
    }

    private func storedPacks(_ f: CheckFixture) throws -> Set<PackID> {
        Set(try f.backend.list(.data).compactMap { PackID(hex: $0.file.name) })
    }

    // A pack with bytes appended (its header no longer reads) and every blob intact: each
    // used blob is copied, the pack is deleted, and check --read-data is clean again.
    func testPackWithBytesAppendedIsRewrittenWhole() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let first = try XCTUnwrap(try XCTUnwrap(try f.entries(backup.snapshot.tree)[f.at("big-1.bin")]).content.first)
        let pack = try f.location(of: first).pack
        try Disk.write(f.packPath(pack), try Disk.read(f.packPath(pack)) + Array(repeating: 0x55, count: 100))
        XCTAssertFalse(try f.check(readData: .all).isHealthy)
        let before = try storedPacks(f)

        let (dry, _) = try rewrite([pack], in: f, dryRun: true)
        XCTAssertEqual(dry.packsRepacked, 1)
        XCTAssertEqual(try storedPacks(f), before, "a dry run changes nothing")

        let (result, messages) = try rewrite([pack], in: f)
        XCTAssertEqual(result.packsRepacked, 1)
        XCTAssertEqual(result.blobsDamaged, 0, "\(messages)")
        XCTAssertEqual(result.packsDeleted, 1)
        let after = try storedPacks(f)
        XCTAssertFalse(after.contains(pack))
        XCTAssertTrue(after.isSuperset(of: before.subtracting([pack])), "every other pack is left alone")
        let report = try f.check(readData: .all)
        XCTAssertTrue(report.isHealthy, report.summary)
        let restore = try f.restore(backup.snapshot.tree)
        XCTAssertTrue(restore.succeeded, "\(restore.damagedBlobs)")
        assertSameListing(try Disk.listing(f.restored(f.src)), try Disk.listing(f.src))
    }

    // A blob that fails authentication cannot be copied: it is named, and the pack is kept
    // while a snapshot uses it. After repair snapshots --forget, a second run deletes it.
    func testDamagedUsedBlobKeepsThePackUntilSnapshotsAreRepaired() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let content = try XCTUnwrap(try f.entries(backup.snapshot.tree)[f.at("big-3.bin")]).content
        let victim = try f.location(of: content[1])
        try f.flipByte(in: victim.pack, at: Int(victim.entry.offset) + 20)

        let (result, messages) = try rewrite([victim.pack], in: f)
        XCTAssertEqual(result.blobsDamaged, 1)
        XCTAssertTrue(messages.contains { $0.contains("blob \(victim.entry.id.short) is damaged and was not copied") }, "\(messages)")
        XCTAssertTrue(try storedPacks(f).contains(victim.pack), "kept: a snapshot still uses the damaged blob")
        XCTAssertEqual(result.packsResurrected, 1)

        var repair = SnapshotRepairOptions()
        repair.forget = true
        repair.readData = true
        _ = try f.repairer().repairSnapshots(repair)
        let (again, _) = try rewrite([victim.pack], in: f)
        XCTAssertEqual(again.packsDeleted, 1)
        XCTAssertFalse(try storedPacks(f).contains(victim.pack))
        let report = try f.check(readData: .all)
        XCTAssertTrue(report.isHealthy, report.summary)
    }

    // A pack no index names and whose header does not read cannot be rewritten: it is named.
    func testUnindexedUnreadablePackIsNamed() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        let garbage = seededBytes(count: 5000, seed: 9)
        let pack = PackID(raw: try XCTUnwrap(RawID(bytes: SHA256.hash(garbage))))
        try f.backend.write(FileName(.data, pack.hex), data: garbage)
        let (result, messages) = try rewrite([pack], in: f)
        XCTAssertEqual(result.packsNotRewritten, [pack], "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("no index names it and its header cannot be read") }, "\(messages)")
        XCTAssertTrue(try storedPacks(f).contains(pack))
    }
}
