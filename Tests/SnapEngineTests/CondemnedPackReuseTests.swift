import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

/// A snapshot can use packs that a deletion mark names: a backup that the mark waits for
/// deduplicated against them. Until the next prune takes them out of the mark, commands that
/// replace such a snapshot must neither fail on it nor leave the replacement using blobs only
/// those packs hold (campaign 16, F3: `rewrite` failed with "blob … is not in any index").
final class CondemnedPackReuseTests: XCTestCase {
    private func condemnAll(_ memory: MemoryBackend, _ repository: Repository, settled: Bool) throws -> [PackID] {
        let packs = try memory.list(.data).compactMap { PackID(hex: $0.file.name) }
        var mark = CoordinationRecord(kind: .deletion, hostname: "prune-host", pid: 77, created: WallClock.nowText,
                                      refreshed: WallClock.nowText, packs: packs)
        if settled { mark.waitFor = [] }
        _ = try Coordination.write(mark, in: repository)
        return packs
    }

    // The rewrite reads the snapshot's trees from the condemned packs and copies into new
    // packs every blob the new snapshot keeps: with those packs and their index files gone,
    // the new snapshot still reads whole.
    func testRewriteCopiesWhatItKeepsOutOfCondemnedPacks() throws {
        let source = try TemporaryDirectory(prefix: "snap-condemned-rewrite")
        defer { source.remove() }
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        try PruneTesting.writeFiles(source.appending("keep/deep"), count: 3, seed: 80)
        try PruneTesting.writeFiles(source.appending("secret"), count: 2, seed: 81)
        _ = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        let condemned = try condemnAll(memory, repository, settled: false)
        let oldIndex = try memory.list(.index).map(\.file)
        let records = try SnapshotStore.all(in: repository)

        let done = try SnapshotRewriter(repository: try Repository.open(backend: memory, password: testPassword),
                                        excludes: ["secret"], hostname: "test-host", dryRun: false).rewrite(records, forget: true)
        XCTAssertEqual(done.count, 1)
        XCTAssertEqual(done.first?.removedEntries, 3)

        // What a prune would delete: the condemned packs, and the index files naming them.
        for pack in condemned { try memory.delete(FileName(.data, pack.hex)) }
        for file in oldIndex { try memory.delete(file) }
        XCTAssertEqual(try PruneTesting.problems(in: memory), [])
        let fresh = try Repository.open(backend: memory, password: testPassword)
        try fresh.loadIndex()
        var files = 0
        let tree = try XCTUnwrap(try SnapshotStore.all(in: fresh).first).snapshot.tree
        try TreeWalker(repository: fresh).walk(tree) { _, node in if node.type == .file { files += 1 } }
        XCTAssertEqual(files, 3)
    }

    // `repair snapshots` (without --forget) of a snapshot that lost a pack, while every other
    // pack is condemned: the replacement's intact blobs are copied into new packs, so it
    // restores once the condemned packs, their index and the original are gone.
    func testRepairCopiesWhatTheReplacementKeepsOutOfCondemnedPacks() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let index = try f.openWithIndex().index
        let entries = try f.entries(backup.snapshot.tree)
        let small = try XCTUnwrap(entries[f.at("small.txt")])
        let lostPack = try XCTUnwrap(small.content.first.flatMap { index.lookup($0)?.pack })
        try f.delete(lostPack)
        let oldIndex = try f.backend.list(.index).map(\.file)
        let repository = try f.open()
        let condemned = try f.backend.list(.data).compactMap { PackID(hex: $0.file.name) }
        _ = try Coordination.write(CoordinationRecord(kind: .deletion, hostname: "prune-host", pid: 77, created: WallClock.nowText,
                                                      refreshed: WallClock.nowText, packs: condemned), in: repository)

        let result = try f.repairer().repairSnapshots(SnapshotRepairOptions())
        let replacement = try XCTUnwrap(result.repaired.first?.replacement)
        XCTAssertGreaterThan(result.treesWritten, 0)

        for pack in condemned { try f.delete(pack) }
        for file in oldIndex { try f.backend.delete(file) }
        try f.backend.delete(FileName(.snapshots, backup.id.hex))
        let report = try f.check()
        XCTAssertTrue(report.isHealthy, report.summary)
        let tree = try SnapshotStore.load(replacement, from: try f.open()).tree
        let restore = try f.restore(tree)
        XCTAssertTrue(restore.succeeded, "\(restore.errors) \(restore.damagedBlobs)")
        var intactFiles = 0
        for (path, node) in entries where node.type == .file && !node.content.contains(where: { index.lookup($0)?.pack == lostPack }) {
            XCTAssertEqual(try Disk.read(f.restored(path)), try Disk.read(path), PathBytes.display(path))
            intactFiles += 1
        }
        XCTAssertGreaterThan(intactFiles, 0)
    }

    /// Lists snapshots without `hidden` the first time (a prune's first phase that listed
    /// before a backup wrote it), and replaces `hidden` the first time it is read, as `tag`
    /// does: the new file first, then the old one deleted.
    private final class ReplacingBackend: ForwardingBackend, @unchecked Sendable {
        var hidden: SnapshotID?
        var replace: (() throws -> Void)?
        private var listings = 0

        override func list(_ kind: FileKind) throws -> [FileInfo] {
            let listing = try base.list(kind)
            guard kind == .snapshots else { return listing }
            listings += 1
            return listings == 1 ? listing.filter { $0.file.name != hidden?.hex } : listing
        }

        override func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
            if file == FileName(.snapshots, hidden?.hex ?? ""), let replace {
                self.replace = nil
                try replace()
            }
            return try base.read(file, range: range)
        }
    }

    // A prune deleting the packs of an eligible mark lists the snapshots, and one of them is
    // replaced (tagged) before it reads it: it follows the replacement and keeps the packs.
    func testPruneFollowsASnapshotReplacedWhileItReads() throws {
        let source = try TemporaryDirectory(prefix: "snap-condemned-prune")
        defer { source.remove() }
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        try PruneTesting.writeFiles(source.appending("data"), count: 3, seed: 90)
        let id = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        let condemned = try condemnAll(memory, repository, settled: true)

        let hooked = ReplacingBackend(memory)
        hooked.hidden = id
        hooked.replace = {
            var tagged = try SnapshotStore.load(id, from: repository)
            tagged.tags = ["tagged"]
            tagged.original = id
            _ = try SnapshotStore.save(tagged, in: repository)
            try memory.delete(FileName(.snapshots, id.hex))
        }
        var options = PruneTesting.pruneOptions()
        options.hostname = "prune-host-2"
        let result = try Pruner(repository: try Repository.open(backend: hooked, password: testPassword), options: options).run()
        XCTAssertNil(hooked.replace, "the snapshot was not replaced while the prune read it")
        XCTAssertEqual(result.packsDeleted, 0)
        let stored = Set(try memory.list(.data).compactMap { PackID(hex: $0.file.name) })
        XCTAssertTrue(Set(condemned).isSubset(of: stored), "the prune deleted packs the replacement uses")
        XCTAssertEqual(try PruneTesting.problems(in: memory), [])
        XCTAssertEqual(try SnapshotStore.all(in: repository).map(\.snapshot.tags), [["tagged"]])
    }
}
