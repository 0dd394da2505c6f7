import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

/// The "read a snapshot" layer: comparing two snapshots and searching them.
final class SnapshotReadTests: XCTestCase {
    private var source: TemporaryDirectory!
    private var memory: MemoryBackend!
    private var repository: Repository!

    override func setUpWithError() throws {
        source = try TemporaryDirectory(prefix: "snap-read")
        memory = MemoryBackend()
        repository = try makeEngineRepository(on: memory)
        for (path, text) in [("a/b/x.txt", "1"), ("c/y.log", "2"), ("keep", "3"), ("d/deep/e/f.txt", "4")] {
            let full = source.appending(path)
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: false, encoding: .utf8)
        }
    }

    override func tearDown() { source.remove() }

    private func backup(_ time: String) throws -> Snapshot {
        let id = try PruneTesting.backup(repository, source.path, time: time)
        return try SnapshotStore.load(id, from: repository)
    }

    private func display(_ change: TreeChange) -> String { "\(change.kind.rawValue) \(PathBytes.display(change.path).dropFirst(source.path.count))" }

    func testDiffListsAddedRemovedModifiedAndTypeChanges() throws {
        let first = try backup("2024-01-01T00:00:00Z")
        try "changed".write(toFile: source.appending("a/b/x.txt"), atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(atPath: source.appending("c/y.log"))
        try FileManager.default.createDirectory(atPath: source.appending("new"), withIntermediateDirectories: false)
        try "n".write(toFile: source.appending("new/z.txt"), atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(atPath: source.appending("keep"))
        try FileManager.default.createDirectory(atPath: source.appending("keep"), withIntermediateDirectories: false)
        let second = try backup("2024-01-02T00:00:00Z")
        try repository.loadIndex()
        var changes: [String] = []
        let stats = try TreeDiff(repository: repository).compare(first.tree, second.tree) { changes.append(display($0)) }
        XCTAssertEqual(changes, ["M /a/b/x.txt", "- /c/y.log", "T /keep/", "+ /new/", "+ /new/z.txt"])
        XCTAssertEqual(stats.filesAdded, 1)
        XCTAssertEqual(stats.filesRemoved, 1)
        XCTAssertEqual(stats.filesModified, 1)
        XCTAssertEqual(stats.foldersAdded, 1)
        XCTAssertEqual(stats.typeChanged, 1)
        XCTAssertEqual(stats.bytesAdded, 7 + 1)
        XCTAssertEqual(stats.bytesRemoved, 1 + 1)
    }

    // Trees are read by whole packs: one request per pack of trees, not one per folder. The
    // second backup's pack holds only the changed folders; its unchanged ones are in the first's.
    func testDiffAndWalkReadTreesByWholePacks() throws {
        let first = try backup("2024-01-01T00:00:00Z")
        try "changed".write(toFile: source.appending("a/b/x.txt"), atomically: false, encoding: .utf8)
        let second = try backup("2024-01-02T00:00:00Z")
        let counting = FaultInjectingBackend(memory, rules: [])
        let reader = try Repository.open(backend: counting, password: testPassword)
        try reader.loadIndex()
        let treePacks = Set([first.tree, second.tree].compactMap { reader.index.lookup($0)?.pack }).count
        var start = counting.calls(.read)
        var changes: [String] = []
        try TreeDiff(repository: reader).compare(first.tree, second.tree) { changes.append(display($0)) }
        let diffReads = counting.calls(.read) - start
        XCTAssertEqual(changes, ["M /a/b/x.txt"])
        start = counting.calls(.read)
        for root in [first.tree, second.tree] { try TreeWalker(repository: reader).walk(root) { _, _ in } }
        let fullReads = counting.calls(.read) - start
        // The path from / to the source alone is deeper than two folders.
        XCTAssertEqual(treePacks, 2)
        XCTAssertEqual(diffReads, treePacks, "one read per pack of trees; unchanged folders are not descended into")
        XCTAssertEqual(fullReads, 1 + treePacks, "the first walk reads the first pack, the second walk both")
    }

    func testMetadataChangesOnlyWhenAsked() throws {
        let first = try backup("2024-01-01T00:00:00Z")
        chmod(source.appending("keep"), 0o600)
        let second = try backup("2024-01-02T00:00:00Z")
        try repository.loadIndex()
        var plain: [String] = [], detailed: [String] = []
        try TreeDiff(repository: repository).compare(first.tree, second.tree) { plain.append(display($0)) }
        try TreeDiff(repository: repository, metadata: true).compare(first.tree, second.tree) { detailed.append(display($0)) }
        XCTAssertEqual(plain, [])
        XCTAssertTrue(detailed.contains("U /keep"), "\(detailed)")
    }

    func testSearchByNameByPathAndByBlob() throws {
        let snapshot = try backup("2024-01-01T00:00:00Z")
        try repository.loadIndex()
        func run(_ target: SnapshotSearch.Target) throws -> [String] {
            var found: [String] = []
            try SnapshotSearch(repository: repository, target: target).search(snapshot.tree) { path, _ in
                found.append(String(PathBytes.display(path).dropFirst(source.path.count)))
            }
            return found
        }
        XCTAssertEqual(try run(.patterns(parsing: ["*.txt"])), ["/a/b/x.txt", "/d/deep/e/f.txt"])
        XCTAssertEqual(try run(.patterns(parsing: [PatternText(source.path + "/c/*")])), ["/c/y.log"])
        XCTAssertEqual(try run(.patterns(parsing: ["nothing"])), [])
        XCTAssertEqual(try run(.patterns(parsing: ["*.TXT"])), [], "case counts by default")
        XCTAssertEqual(try run(.patterns(parsing: ["*.TXT"], ignoringCase: true)), ["/a/b/x.txt", "/d/deep/e/f.txt"])
        var content: BlobID?
        try TreeWalker(repository: repository).walk(snapshot.tree) { path, node in
            if PathBytes.display(path).hasSuffix("y.log") { content = node.content.first }
        }
        var uses: [String] = []
        try BlobUses(repository: repository, ids: [try XCTUnwrap(content)]).search(snapshot.tree) { use in
            uses.append(String(PathBytes.display(use.path).dropFirst(source.path.count)))
            XCTAssertFalse(use.isTree)
        }
        XCTAssertEqual(uses, ["/c/y.log"])
    }
}

