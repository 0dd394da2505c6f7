import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import Synchronization
import XCTest

/// Runs `hook` once, just before the first snapshot file is written through it: another
/// host's command that acts on the repository at that moment.
private final class BeforeSnapshotWrite: ForwardingBackend, @unchecked Sendable {
    let hook = Mutex<(@Sendable () throws -> Void)?>(nil)
    override func write(_ file: FileName, data: [UInt8]) throws {
        if file.kind == .snapshots, let run = hook.withLock({ h -> (@Sendable () throws -> Void)? in defer { h = nil }; return h }) { try run() }
        try base.write(file, data: data)
    }
}

final class SnapshotTaggerTests: XCTestCase {
    func testTagChangeOrderAndDuplicates() {
        XCTAssertEqual(TagChange(add: ["b", "a", "b"]).apply(to: ["a"]), ["a", "b"])
        XCTAssertEqual(TagChange(remove: ["a"]).apply(to: ["a", "c"]), ["c"])
        XCTAssertEqual(TagChange(set: ["x", "y"]).apply(to: ["a"]), ["x", "y"])
        XCTAssertEqual(TagChange(set: []).apply(to: ["a"]), [])
    }

    // A retagged snapshot is a new file naming the same tree, with `original`; the old file
    // is gone, no lock is left, and unchanged snapshots keep their IDs.
    func testRetagWritesANewSnapshotAndRemovesTheOld() throws {
        let source = try TemporaryDirectory(prefix: "snap-tag")
        defer { source.remove() }
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        try PruneTesting.writeFiles(source.appending("data"), count: 2, seed: 40)
        let first = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        let second = try PruneTesting.backup(repository, source.path, time: "2024-01-02T00:00:00Z")
        let records = try SnapshotStore.all(in: repository)
        let tagger = SnapshotTagger(repository: repository, hostname: "test-host")
        let changed = try tagger.retag(records.filter { $0.id == first }, TagChange(add: ["keep"]))
        XCTAssertEqual(changed.count, 1)
        let new = try XCTUnwrap(changed.first?.new)
        let snapshot = try SnapshotStore.load(new, from: repository)
        XCTAssertEqual(snapshot.tags, ["keep"])
        XCTAssertEqual(snapshot.original, first)
        XCTAssertEqual(snapshot.tree, records.first { $0.id == first }?.snapshot.tree)
        XCTAssertEqual(Set(try SnapshotStore.all(in: repository).map(\.id)), [new, second])
        XCTAssertEqual(try memory.list(.locks).count, 0)
        // Retagged again, `original` still names the first of the line; no change, no new file.
        let again = try tagger.retag(try SnapshotStore.all(in: repository).filter { $0.id == new }, TagChange(remove: ["keep"]))
        XCTAssertEqual(try SnapshotStore.load(try XCTUnwrap(again.first?.new), from: repository).original, first)
        XCTAssertEqual(try tagger.retag(try SnapshotStore.all(in: repository), TagChange(remove: ["absent"])).count, 0)
        XCTAssertEqual(try PruneTesting.problems(in: memory), [])
    }

    // Two hosts tag one snapshot at once: the one that writes second withdraws its copy, so
    // the snapshot exists once, with the other's change, and the withdrawing command says so.
    func testConcurrentTagsOfOneSnapshotLeaveOneCopy() throws {
        let source = try TemporaryDirectory(prefix: "snap-tag")
        defer { source.remove() }
        let memory = MemoryBackend()
        try PruneTesting.writeFiles(source.appending("data"), count: 1, seed: 41)
        let original = try PruneTesting.backup(try makeEngineRepository(on: memory), source.path, time: "2024-01-01T00:00:00Z")
        let hooked = BeforeSnapshotWrite(memory)
        let here = try Repository.open(backend: hooked, password: testPassword)
        let there = try Repository.open(backend: memory, password: testPassword)
        let records = try SnapshotStore.all(in: here)

        // The other host's tag runs whole between this one's lock and its write.
        hooked.hook.withLock { $0 = { _ = try SnapshotTagger(repository: there, hostname: "other").retag(records, TagChange(add: ["b"])) } }
        XCTAssertThrowsError(try SnapshotTagger(repository: here, hostname: "test-host").retag(records, TagChange(add: ["a"]))) { error in
            XCTAssertTrue("\(error)".contains("was changed or removed by another command"), "\(error)")
        }
        var left = try SnapshotStore.all(in: there)
        XCTAssertEqual(left.map(\.snapshot.tags), [["b"]])
        XCTAssertEqual(left.first?.snapshot.original, original)

        // The other host has written its copy but not yet removed the original: this one sees
        // the new snapshot of the line and withdraws; the other then completes alone.
        let current = try SnapshotStore.all(in: here)
        let theirs = Mutex<SnapshotID?>(nil)
        hooked.hook.withLock { $0 = {
            var snapshot = current[0].snapshot
            snapshot.tags = ["c"]
            let id = try SnapshotStore.save(snapshot, in: there)
            theirs.withLock { $0 = id }
        } }
        XCTAssertThrowsError(try SnapshotTagger(repository: here, hostname: "test-host").retag(current, TagChange(add: ["d"])))
        left = try SnapshotStore.all(in: there)
        XCTAssertEqual(Set(left.map(\.id)), Set([current[0].id, try XCTUnwrap(theirs.withLock { $0 })]), "only the original and the other's copy")
        XCTAssertEqual(try memory.list(.locks).count, 0)
    }
}
