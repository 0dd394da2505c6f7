import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

final class RepairSnapshotsTests: XCTestCase {
    // One data pack deleted. --dry-run writes nothing; the repair writes a replacement from
    // which every intact file restores byte-identical and every damaged file comes back as
    // NAME.damaged holding exactly its surviving chunks; a second run changes nothing; with
    // --forget the original goes, and after 'repair index' the repository checks clean.
    func testDeletedDataPackKeepsIntactFilesAndMarksDamagedOnes() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let entries = try f.entries(backup.snapshot.tree)
        let index = try f.openWithIndex().index
        let victim = try XCTUnwrap(entries[f.at("big-2.bin")])
        // Files are packed in whatever order the readers finish them: lose a pack that holds
        // part of big-2.bin (which spans at least two 1 MiB packs) but not the small file
        // whose name the repair must avoid.
        let avoid = Set(try XCTUnwrap(entries[f.at("big-2.bin.damaged")]).content.compactMap { index.lookup($0)?.pack })
        let lostPack = try XCTUnwrap(victim.content.compactMap { index.lookup($0)?.pack }.first { !avoid.contains($0) })
        func inLostPack(_ id: BlobID) -> Bool { index.lookup(id)?.pack == lostPack }
        XCTAssertTrue(victim.content.contains { !inLostPack($0) }, "precondition: big-2.bin keeps some chunks")
        let damagedPaths = Set(entries.filter { $0.value.content.contains(where: inLostPack) }.map(\.key))
        try f.delete(lostPack)

        let before = try f.files()
        let dry = try f.repairer().repairSnapshots(dryRunOptions())
        XCTAssertEqual(try f.files(), before, "--dry-run wrote or deleted something")
        XCTAssertEqual(dry.repaired.count, 1)
        XCTAssertNil(dry.repaired.first?.replacement)
        XCTAssertEqual(Set(dry.repaired.first?.changes.map(\.path) ?? []), damagedPaths)

        let result = try f.repairer().repairSnapshots(SnapshotRepairOptions())
        let repaired = try XCTUnwrap(result.repaired.first)
        XCTAssertEqual(result.repaired.count, 1)
        XCTAssertEqual(repaired.original, backup.id)
        XCTAssertEqual(Set(repaired.changes.map(\.path)), damagedPaths)
        XCTAssertEqual(repaired.changes.map(\.newPath), dry.repaired[0].changes.map(\.newPath))
        let replacement = try XCTUnwrap(repaired.replacement)
        let snapshot = try SnapshotStore.load(replacement, from: try f.open())
        XCTAssertEqual(snapshot.parent, backup.id)
        XCTAssertEqual(snapshot.tags, backup.snapshot.tags + ["repaired"])
        XCTAssertEqual(snapshot.time, backup.snapshot.time)
        XCTAssertEqual(snapshot.hostname, backup.snapshot.hostname)
        XCTAssertEqual(snapshot.paths, backup.snapshot.paths)
        XCTAssertNotNil(try? SnapshotStore.load(backup.id, from: try f.open()), "without --forget the original stays")

        // The replacement restores completely: no missing blob anywhere.
        let restore = try f.restore(snapshot.tree)
        XCTAssertTrue(restore.succeeded, "\(restore.errors) \(restore.damagedBlobs)")
        for (path, node) in entries where node.type == .file || node.type == .hardlink {
            let original = try Disk.read(path)
            guard damagedPaths.contains(path) else {
                XCTAssertEqual(try Disk.read(f.restored(path)), original, PathBytes.display(path))
                continue
            }
            let marked = path == f.at("big-2.bin") ? f.at("big-2.bin.damaged-2") : path + Repairer.damagedSuffix
            XCTAssertFalse(Disk.exists(f.restored(path)), "the damaged file is not restored under its name: \(PathBytes.display(path))")
            var expected: [UInt8] = []
            var offset = 0
            for id in node.content {
                let length = Int(try XCTUnwrap(index.lookup(id)).entry.rawLength)
                if !inLostPack(id) { expected += original[offset..<offset + length] }
                offset += length
            }
            XCTAssertEqual(try Disk.read(f.restored(marked)), expected, "\(PathBytes.display(marked)) holds the surviving chunks")
            XCTAssertLessThan(expected.count, original.count)
        }
        XCTAssertEqual(try Disk.read(f.restored(f.at("big-2.bin.damaged"))), Array("not a repair product\n".utf8))

        // Idempotent: nothing more to do, nothing written.
        let afterRepair = try f.files()
        let again = try f.repairer().repairSnapshots(SnapshotRepairOptions())
        XCTAssertEqual(again.repaired.count, 0)
        XCTAssertEqual(again.alreadyRepaired, [.init(original: backup.id, replacement: replacement)])
        XCTAssertEqual(again.intact, 1, "the replacement needs nothing")
        XCTAssertEqual(try f.files(), afterRepair)

        // --forget removes the original; then rebuilding the index drops the lost pack and all is clean.
        var forget = SnapshotRepairOptions()
        forget.forget = true
        let forgotten = try f.repairer().repairSnapshots(forget)
        XCTAssertEqual(forgotten.alreadyRepaired.map(\.forgotten), [true])
        XCTAssertEqual(Set(try f.backend.list(.snapshots).map(\.file.name)), [replacement.hex])
        XCTAssertEqual(try f.repairer().repairIndex(dryRun: false).packsDropped, [lostPack])
        let report = try f.check(readData: .all)
        XCTAssertTrue(report.isHealthy, report.summary)
        let last = try f.files()
        XCTAssertEqual(try f.repairer().repairSnapshots(forget).repaired.count, 0)
        XCTAssertEqual(try f.files(), last)
    }

    // A tree that does not authenticate: its folder becomes an empty NAME.damaged folder,
    // every other entry restores as it was.
    func testUnreadableTreeBecomesEmptyDamagedFolder() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let nested = f.at("docs", "nested")
        let tree = try XCTUnwrap(try f.entries(backup.snapshot.tree)[nested]?.subtree)
        let location = try f.location(of: tree)
        try f.flipByte(in: location.pack, at: Int(location.entry.offset) + 1)

        var options = SnapshotRepairOptions()
        options.forget = true
        let result = try f.repairer().repairSnapshots(options)
        let repaired = try XCTUnwrap(result.repaired.first)
        XCTAssertEqual(repaired.changes.count, 1)
        XCTAssertEqual(repaired.changes.first?.path, nested)
        XCTAssertEqual(repaired.changes.first?.newPath, nested + Repairer.damagedSuffix)
        guard case .folderUnreadable? = repaired.changes.first?.kind else { return XCTFail("\(repaired.changes)") }
        XCTAssertTrue(repaired.forgotten)
        XCTAssertEqual(try f.backend.list(.snapshots).map(\.file.name), [try XCTUnwrap(repaired.replacement).hex])

        let restore = try f.restore(repaired.snapshot.tree)
        XCTAssertTrue(restore.succeeded, "\(restore.errors) \(restore.damagedBlobs)")
        var expected = try Disk.listing(f.src)
        let nestedRelative = Disk.bytes("docs/nested")
        expected = expected.filter { !($0.key == nestedRelative || $0.key.starts(with: nestedRelative + [PathBytes.slash])) }
        var restored = try Disk.listing(f.restored(f.src))
        let marker = try XCTUnwrap(restored.removeValue(forKey: Disk.bytes("docs/nested.damaged")))
        XCTAssertEqual(marker.kind, .directory)
        XCTAssertEqual(try Disk.names(f.restored(nested + Repairer.damagedSuffix)), [])
        // The parent folder was rewritten, so its mtime is restored as recorded; compare all but folder times.
        assertSameListing(restored.filter { $0.value.kind != .directory }, expected.filter { $0.value.kind != .directory })
        XCTAssertEqual(Set(restored.filter { $0.value.kind == .directory }.keys), Set(expected.filter { $0.value.kind == .directory }.keys))
    }

    // A corrupted chunk is in the index, so only --read-data makes the repair see it.
    func testReadDataTreatsCorruptChunksAsLost() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let small = try XCTUnwrap(try f.entries(backup.snapshot.tree)[f.at("small.txt")])
        XCTAssertEqual(small.content.count, 1)
        let location = try f.location(of: small.content[0])
        try f.flipByte(in: location.pack, at: Int(location.entry.offset))

        let structural = try f.repairer().repairSnapshots(SnapshotRepairOptions())
        XCTAssertEqual(structural.repaired.count, 0)
        XCTAssertEqual(structural.intact, 1)

        var options = SnapshotRepairOptions()
        options.readData = true
        let result = try f.repairer().repairSnapshots(options)
        let change = try XCTUnwrap(result.repaired.first?.changes.first)
        XCTAssertEqual(result.repaired.first?.changes.count, 1)
        XCTAssertEqual(change.path, f.at("small.txt"))
        XCTAssertEqual(change.newPath, f.at("small.txt.damaged"))
        XCTAssertEqual(change.kind, .fileDamaged(lostBlobs: 1, blobs: 1, originalSize: 6, keptSize: 0))
        let restore = try f.restore(try XCTUnwrap(result.repaired.first).snapshot.tree)
        XCTAssertTrue(restore.succeeded, "\(restore.errors) \(restore.damagedBlobs)")
        XCTAssertEqual(try Disk.read(f.restored(f.at("small.txt.damaged"))), [])
        XCTAssertEqual(try Disk.read(f.restored(f.at("big-3.bin"))), try Disk.read(f.at("big-3.bin")))
    }

    // Damaged index files must be repaired first: otherwise the blobs they name would look lost.
    func testRefusesWhileIndexFilesAreUnreadable() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        let file = try XCTUnwrap(try f.backend.list(.index).first).file
        let path = Disk.bytes(f.backend.path(of: file))
        var bytes = try Disk.read(path)
        bytes[bytes.count - 1] ^= 1
        try Disk.write(path, bytes)
        let before = try f.files()
        XCTAssertThrowsError(try f.repairer().repairSnapshots(SnapshotRepairOptions())) { error in
            guard case RepairError.indexUnreadable = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try f.files(), before)
    }

    private func dryRunOptions() -> SnapshotRepairOptions {
        var options = SnapshotRepairOptions()
        options.dryRun = true
        options.forget = true
        return options
    }
}
