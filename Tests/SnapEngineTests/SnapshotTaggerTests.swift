import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

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
}
