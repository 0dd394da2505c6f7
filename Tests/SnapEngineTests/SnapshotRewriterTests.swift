import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

final class SnapshotRewriterTests: XCTestCase {
    // Excluded entries are gone from the new snapshot, the rest is whole, untouched
    // snapshots keep their IDs, and a later prune keeps everything the snapshots use.
    func testRewriteRemovesMatchesAndKeepsTheRest() throws {
        let source = try TemporaryDirectory(prefix: "snap-rewrite")
        defer { source.remove() }
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        try PruneTesting.writeFiles(source.appending("keep"), count: 2, seed: 60)
        try PruneTesting.writeFiles(source.appending("secret"), count: 2, seed: 61)
        try "x".write(toFile: source.appending("keep/token.key"), atomically: false, encoding: .utf8)
        let target = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        let other = try PruneTesting.backup(repository, source.appending("keep/file-0.bin"), time: "2024-01-02T00:00:00Z")
        try repository.loadIndex()
        let records = try SnapshotStore.all(in: repository)

        let dry = try SnapshotRewriter(repository: repository, excludes: ["secret", "*.key"], hostname: "test-host", dryRun: true)
            .rewrite(records, forget: true)
        XCTAssertEqual(dry.map(\.original), [target])
        XCTAssertNil(dry.first?.replacement)
        XCTAssertEqual(dry.first?.removedEntries, 4, "secret, its two files, token.key")
        XCTAssertEqual(Set(try SnapshotStore.all(in: repository).map(\.id)), [target, other], "a dry run writes nothing")

        let done = try SnapshotRewriter(repository: repository, excludes: ["secret", "*.key"], hostname: "test-host", dryRun: false)
            .rewrite(records, forget: true)
        let new = try XCTUnwrap(done.first?.replacement)
        XCTAssertEqual(Set(try SnapshotStore.all(in: repository).map(\.id)), [new, other])
        let snapshot = try SnapshotStore.load(new, from: repository)
        XCTAssertEqual(snapshot.original, target)
        XCTAssertEqual(snapshot.excludes, ["secret", "*.key"])
        var names: [String] = []
        let fresh = try Repository.open(backend: memory, password: testPassword)
        try fresh.loadIndex()
        try TreeWalker(repository: fresh).walk(snapshot.tree) { path, _ in names.append(PathBytes.display(path)) }
        XCTAssertFalse(names.contains { $0.contains("secret") || $0.hasSuffix(".key") }, "\(names)")
        XCTAssertTrue(names.contains(source.appending("keep/file-1.bin")))
        XCTAssertEqual(try memory.list(.locks).count, 0)
        _ = try Pruner(repository: fresh, options: PruneTesting.pruneOptions()).run()
        XCTAssertEqual(try PruneTesting.problems(in: memory), [])
    }

    // Without --forget both stay, with the same time: the rewritten one lists after its
    // original whatever their IDs, so `latest` is the one without the removed entries.
    func testLatestIsTheRewriteWhenTheOriginalStays() throws {
        let source = try TemporaryDirectory(prefix: "snap-rewrite")
        defer { source.remove() }
        let repository = try makeEngineRepository(on: MemoryBackend())
        for seed in 70..<76 {
            try PruneTesting.writeFiles(source.appending("s\(seed)"), count: 1, seed: UInt64(seed))
            let original = try PruneTesting.backup(repository, source.path, time: "2024-01-0\(seed - 69)T00:00:00Z")
            try repository.loadIndex()
            let done = try SnapshotRewriter(repository: repository, excludes: ["s70"], hostname: "test-host", dryRun: false)
                .rewrite(try SnapshotStore.all(in: repository).filter { $0.id == original }, forget: false)
            let rewritten = try XCTUnwrap(done.first?.replacement)
            XCTAssertEqual(try SnapshotStore.find("latest", in: repository).id, rewritten, "seed \(seed)")
            let pair = try SnapshotStore.all(in: repository).suffix(2)
            XCTAssertEqual(pair.map(\.id), [original, rewritten])
            XCTAssertEqual(pair.map(\.snapshot.tags), [[], [SnapshotRewriter.tag]], "as restic, the copy beside its original is tagged")
            // forget --keep-last 1 agrees with `latest` (campaign 8 F1: it kept the original for half the IDs).
            let kept = Retention.apply(policy { $0.keepLast = 1 }, to: pair.map(RetentionSnapshot.init), now: instant("2030-01-01T00:00:00Z"))
            XCTAssertEqual(kept.keep.map(\.snapshot.id), [rewritten], "seed \(seed)")
        }
    }

    // The index is read after the rewrite's lock, as a backup's is: a new tree whose pack a
    // prune deleted since the repository was opened is stored again, not taken for stored
    // because an index read before (here the one the first rewrite left in memory) names it.
    func testARewriteNeverReusesTreesPrunedBeforeItsLock() throws {
        let source = try TemporaryDirectory(prefix: "snap-rewrite-pruned")
        defer { source.remove() }
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        try PruneTesting.writeFiles(source.appending("keep"), count: 2, seed: 62)
        try PruneTesting.writeFiles(source.appending("secret"), count: 2, seed: 63)
        _ = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        try repository.loadIndex()
        let records = try SnapshotStore.all(in: repository)
        let rewriter = { try SnapshotRewriter(repository: repository, excludes: ["secret"], hostname: "test-host", dryRun: false) }

        let first = try XCTUnwrap(try rewriter().rewrite(records, forget: false).first?.replacement)
        let firstTree = try SnapshotStore.load(first, from: repository).tree
        try memory.delete(FileName(.snapshots, first.hex))
        let pruned = try Pruner(repository: try Repository.open(backend: memory, password: testPassword),
                                options: PruneTesting.pruneOptions()).run()
        XCTAssertGreaterThan(pruned.packsDeleted, 0, "the first rewrite's trees were pruned")

        let second = try XCTUnwrap(try rewriter().rewrite(records, forget: false).first?.replacement)
        XCTAssertEqual(try SnapshotStore.load(second, from: repository).tree, firstTree, "the same tree again")
        XCTAssertEqual(try PruneTesting.problems(in: memory), [])
    }
}

/// Snapshots that another command deletes or replaces between their selection and the
/// rewrite's lock (campaign 18, F2).
final class SnapshotRewriterGoneTests: XCTestCase {
    // A snapshot tagged (replaced) after it was selected is not rewritten: the rewrite
    // rewrites the other, then fails naming it, so that a script does not take the tagged
    // copy, which still holds the excluded file, for cleaned.
    func testSnapshotReplacedAfterSelectionIsNamedInTheError() throws {
        for forget in [false, true] {
            let source = try TemporaryDirectory(prefix: "snap-rewrite-gone")
            defer { source.remove() }
            let memory = MemoryBackend()
            let repository = try makeEngineRepository(on: memory)
            try PruneTesting.writeFiles(source.appending("keep"), count: 1, seed: 62)
            try "x".write(toFile: source.appending("keep/token.key"), atomically: false, encoding: .utf8)
            let tagged = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
            let other = try PruneTesting.backup(repository, source.appending("keep"), time: "2024-01-02T00:00:00Z")
            try repository.loadIndex()
            let selected = try SnapshotStore.all(in: repository)
            _ = try SnapshotTagger(repository: repository, hostname: "test-host")
                .retag(selected.filter { $0.id == tagged }, TagChange(add: ["t"]))

            XCTAssertThrowsError(try SnapshotRewriter(repository: repository, excludes: ["*.key"], hostname: "test-host", dryRun: false)
                .rewrite(selected, forget: forget)) { error in
                XCTAssertEqual("\(error)", "snapshot \(tagged.short) was changed or removed by another command while this rewrite ran, "
                               + "so this rewrite left it as that command made it; run it again to apply this one's change")
            }
            let left = try SnapshotStore.all(in: repository)
            XCTAssertEqual(left.filter { $0.snapshot.tags == ["t"] }.count, 1, "the tagged copy is left as the tag made it")
            XCTAssertEqual(left.filter { $0.snapshot.original == other }.count, 1, "the other snapshot was rewritten")
            XCTAssertEqual(left.contains { $0.id == other }, !forget)
            XCTAssertEqual(try memory.list(.locks).count, 0)
        }
    }
}
