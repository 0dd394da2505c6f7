import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

/// Refuses to delete one snapshot file, as a server that denies the request would.
private final class RefusingDelete: ForwardingBackend, @unchecked Sendable {
    var refused: FileName?
    override func delete(_ file: FileName) throws {
        if file == refused { throw StorageError.permanent(operation: "delete", file: file, location: "test", detail: "denied") }
        try base.delete(file)
    }
}

final class SnapshotForgetterTests: XCTestCase {
    private var source: TemporaryDirectory!
    private let memory = MemoryBackend()
    private lazy var refusing = RefusingDelete(memory)
    private var repository: Repository!

    override func setUpWithError() throws {
        source = try TemporaryDirectory(prefix: "snap-forget")
        repository = try makeEngineRepository(on: refusing)
        try PruneTesting.writeFiles(source.appending("a"), count: 2, seed: 41)
        try PruneTesting.writeFiles(source.appending("b"), count: 2, seed: 42)
    }

    override func tearDown() { source.remove() }

    /// Three snapshots of folder a (days 1–3) and one of folder b (day 2): two groups by host and paths.
    private func history() throws -> (a: [SnapshotID], b: SnapshotID) {
        let a = try (1...3).map { try PruneTesting.backup(repository, source.appending("a"), time: "2024-01-0\($0)T00:00:00Z") }
        let b = try PruneTesting.backup(repository, source.appending("b"), time: "2024-01-02T12:00:00Z")
        return (a, b)
    }

    private var now: Timestamp { Timestamp(seconds: 1_800_000_000, nanoseconds: 0) }

    func testThePolicyIsAppliedToEachGroupAndListsOldestFirst() throws {
        let (a, b) = try history()
        var policy = RetentionPolicy()
        policy.keepLast = 1
        let plan = try SnapshotForgetter.plan(policy, for: try SnapshotStore.all(in: repository), groupedBy: .hostAndPaths, now: now)
        XCTAssertEqual(plan.count, 2)
        let groupA = try XCTUnwrap(plan.first { $0.key?.paths == [source.appending("a")] })
        XCTAssertEqual(groupA.keep.map(\.record.id), [a[2]])
        XCTAssertEqual(groupA.keep.first?.reasons, ["last snapshot"])
        XCTAssertEqual(groupA.remove.map(\.id), [a[0], a[1]])
        let groupB = try XCTUnwrap(plan.first { $0.key?.paths == [source.appending("b")] })
        XCTAssertEqual(groupB.keep.map(\.record.id), [b])
        XCTAssertEqual(groupB.remove.count, 0)
    }

    func testAnEmptyPolicyRemovesEverySnapshotGiven() throws {
        let (a, b) = try history()
        let plan = try SnapshotForgetter.plan(RetentionPolicy(), for: try SnapshotStore.all(in: repository), groupedBy: .hostAndPaths, now: now)
        XCTAssertEqual(Set(plan.flatMap(\.remove).map(\.id)), Set(a + [b]))
        XCTAssertTrue(plan.allSatisfy(\.keep.isEmpty))
    }

    func testAPolicyThatKeepsNoneOfAGroupIsRefused() throws {
        _ = try history()
        var policy = RetentionPolicy()
        policy.keepTags = ["nowhere"]
        XCTAssertThrowsError(try SnapshotForgetter.plan(policy, for: try SnapshotStore.all(in: repository), groupedBy: .hostAndPaths, now: now)) { error in
            guard case EngineError.wouldRemoveWholeGroup = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".hasPrefix("refusing to delete last snapshot of snapshot group"), "\(error)")
        }
    }

    // One refused deletion does not stop the others; it is returned with its error, and a
    // snapshot already gone counts as removed.
    func testRemoveGoesOnPastAFailureAndReturnsIt() throws {
        let (a, b) = try history()
        refusing.refused = FileName(.snapshots, a[1].hex)
        try memory.delete(FileName(.snapshots, b.hex))
        let forgetter = SnapshotForgetter(repository: repository)
        var removed: [SnapshotID] = []
        let failed = forgetter.remove([a[0], a[1], a[2], b]) { removed.append($0) }
        XCTAssertEqual(removed, [a[0], a[2], b])
        XCTAssertEqual(failed.map(\.id), [a[1]])
        XCTAssertEqual(try memory.list(.snapshots).map(\.file.name), [a[1].hex])
    }

    func testOnlyDamagedOrNewerSnapshotFilesCountAsUnreadable() {
        XCTAssertTrue(SnapshotForgetter.isUnreadableFile(RepositoryError.damaged(file: "snapshots/x", reason: "MAC")))
        XCTAssertTrue(SnapshotForgetter.isUnreadableFile(RepositoryError.unsupportedVersion(file: "snapshots/x", version: 9)))
        XCTAssertFalse(SnapshotForgetter.isUnreadableFile(StorageError.permanent(operation: "read", file: nil, location: "x", detail: "denied")))
    }
}
