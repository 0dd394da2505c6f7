import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// `ImportEntry.knownTree`: a folder stored by an earlier import is taken whole.
final class ImportKnownTreeTests: XCTestCase {
    private func path(_ text: String) -> [[UInt8]] { text.split(separator: "/").map { Array($0.utf8) } }

    private func folder() -> Node {
        Node(name: [], type: .directory, mode: 0o755, mtime: Timestamp(seconds: 1_600_000_000, nanoseconds: 7))
    }

    private func save(_ f: BackupFixture, _ body: (SnapshotImporter) throws -> Void) throws -> Snapshot {
        let result = try withImporter(f) { importer in
            try body(importer)
            return try importer.save(ImportedSnapshot(time: Timestamp(seconds: 1_500_000_000, nanoseconds: 0),
                                                      hostname: "h", username: "u", paths: ["/"]))
        }
        return try SnapshotStore.load(result.id, from: f.repository)
    }

    // The second snapshot names the first one's folder by its tree and gets the same tree
    // (same root) without its entries being added; an unknown tree is refused.
    func testKnownTreeStandsForTheFolder() throws {
        let f = try BackupFixture()
        let file = Node(name: [], type: .file, mode: 0o644, mtime: Timestamp(seconds: 1_600_000_000, nanoseconds: 1))
        let first = try save(f) { importer in
            try importer.add(ImportEntry(path: path("data"), node: folder()))
            try importer.add(ImportEntry(path: path("data/a.txt"), node: file, content: .stream { _ in 0 }))
            var text = Array("hello".utf8)
            try importer.add(ImportEntry(path: path("data/sub/b.txt"), node: file, content: .stream { space in
                let n = min(space.count, text.count)
                text.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                text.removeFirst(n)
                return n
            }))
        }
        let data = try XCTUnwrap(try TreeWalker(repository: f.repository).tree(first.tree).node(named: Array("data".utf8))?.subtree)
        let second = try save(f) { importer in
            try importer.add(ImportEntry(path: path("data"), node: folder(), knownTree: data))
        }
        XCTAssertEqual(second.tree, first.tree)

        var options = ImportOptions(lockHostname: "test-host")
        options.workers = 2
        let session = try ImportSession(repository: f.repository, options: options)
        defer { session.close() }
        let unknown = BlobID(raw: RawID(w0: 1, w1: 2, w2: 3, w3: 4))
        XCTAssertThrowsError(try session.snapshot().add(ImportEntry(path: path("data"), node: folder(), knownTree: unknown))) { error in
            guard case .unknownContent? = error as? ImportError else { return XCTFail("\(error)") }
        }
    }
}
