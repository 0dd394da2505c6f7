import XCTest
import SnapCore
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// An import seals the folders its entries have left into a temporary file (`ImportTree`),
/// so that memory holds the folders leading to the current entry rather than the whole
/// snapshot; whatever the order of the entries, the snapshot is the one an import that
/// keeps everything in memory makes.
final class ImportSealingTests: XCTestCase {
    private func path(_ text: String) -> [[UInt8]] { text.split(separator: "/").map { Array($0.utf8) } }

    private func node(_ type: NodeType, mode: UInt32 = 0o644, linkTarget: String = "") -> Node {
        Node(name: [], type: type, mode: mode, uid: 7, gid: 8, user: "u", group: "g",
             mtime: Timestamp(seconds: 1_600_000_000, nanoseconds: 1), linkTarget: Array(linkTarget.utf8))
    }

    private func file(_ at: String, _ text: String) -> ImportEntry {
        var bytes = Array(text.utf8)
        return ImportEntry(path: path(at), node: node(.file), content: .stream { space in
            let n = min(space.count, bytes.count)
            bytes.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            bytes.removeFirst(n)
            return n
        })
    }

    private func importing(_ f: BackupFixture, sealing: Bool, _ entries: () -> [ImportEntry]) throws -> (tree: BlobID, seals: Int, bytes: Int) {
        try withImporter(f) { importer in
            importer.sealsFolders = sealing
            for entry in entries() { try importer.add(entry) }
            let statistics = importer.spillStatistics
            let result = try importer.save(ImportedSnapshot(time: Timestamp(seconds: 1_500_000_000, nanoseconds: 0), hostname: "h",
                                                            username: "u", paths: ["/"], tags: [], origin: nil))
            XCTAssertTrue(result.warnings.isEmpty, "\(result.warnings)")
            return (result.snapshot.tree, statistics.seals, statistics.bytes)
        }
    }

    // Folders left and come back to, replaced names, a folder's own entry after it was
    // left, a file replaced by a folder, hard links into sealed folders, and one folder
    // gone back to more often than it is sealed: the same tree as without sealing.
    func testSealedImportMakesTheSameSnapshotInAnyOrder() throws {
        let f = try BackupFixture()
        let entries: () -> [ImportEntry] = { [self] in
            var list: [ImportEntry] = []
            for d in 0..<6 {
                for i in 0..<5 { list.append(file("top/d\(d)/f\(i)", "content \(d) \(i)")) }
                list.append(ImportEntry(path: path("top/d\(d)/sub/link"), node: node(.symlink, mode: 0o777, linkTarget: "../f0")))
            }
            list.append(file("top/d1/f2", "replaced after d1 was sealed"))
            list.append(ImportEntry(path: path("top/d2"), node: node(.directory, mode: 0o700)))
            list.append(file("top/d3/f4/inner", "f4 is now a folder"))
            list.append(ImportEntry(path: path("other/hard"), node: node(.hardlink, linkTarget: "top/d0/f1")))
            list.append(ImportEntry(path: path("other/hard2"), node: node(.hardlink, linkTarget: "top/d4/f3")))
            list.append(ImportEntry(path: path("top/d4/again"), node: node(.hardlink, linkTarget: "other/hard")))
            for round in 0..<4 {
                list.append(file("top/d5/round\(round)", "round \(round)"))
                list.append(file("elsewhere/e\(round)", "elsewhere \(round)"))
            }
            return list
        }
        let sealed = try importing(f, sealing: true, entries)
        let inMemory = try importing(f, sealing: false, entries)
        XCTAssertEqual(sealed.tree, inMemory.tree, "the same snapshot, tree for tree")
        XCTAssertGreaterThan(sealed.seals, 6)
        XCTAssertGreaterThan(sealed.bytes, 0)
        XCTAssertEqual(inMemory.seals, 0)

        let entriesByPath = try f.snapshotEntries(sealed.tree)
        XCTAssertEqual(entriesByPath[Array("/top/d3/f4".utf8)]?.type, .directory)
        XCTAssertEqual(entriesByPath[Array("/top/d2".utf8)]?.mode, 0o700)
        XCTAssertEqual(entriesByPath[Array("/other/hard".utf8)]?.type, .file, "/other comes first in snapshot order")
        XCTAssertEqual(entriesByPath[Array("/top/d0/f1".utf8)]?.type, .hardlink)
        XCTAssertEqual(entriesByPath[Array("/top/d0/f1".utf8)]?.links, 3)
        let restore = try f.restore(sealed.tree)
        XCTAssertTrue(restore.succeeded, "\(restore.errors)")
        XCTAssertEqual(try Disk.read(f.restored(Array("/top/d1/f2".utf8))), Array("replaced after d1 was sealed".utf8))
        XCTAssertEqual(try Disk.lstat(f.restored(Array("/top/d4/again".utf8))).st_ino,
                       try Disk.lstat(f.restored(Array("/top/d0/f1".utf8))).st_ino)
    }

    // Entries of an archive written depth first: every folder is sealed once it is left,
    // so only the last one's entries are in memory when the trees are built.
    func testDepthFirstEntriesSealEveryFolderLeft() throws {
        let f = try BackupFixture()
        let result = try importing(f, sealing: true) { [self] in
            (0..<40).flatMap { d in (0..<20).map { i in file("root/d\(d)/f\(i)", "\(d)-\(i)") } }
        }
        XCTAssertEqual(result.seals, 39, "every folder but the last")
        XCTAssertEqual(try f.snapshotEntries(result.tree).count, 1 + 40 + 40 * 20)
    }

    // Sealing only saves memory: with nowhere to write the spill file, the import keeps
    // every folder in memory and still saves the snapshot.
    func testAnUnwritableTemporaryFolderOnlyCostsMemory() throws {
        let f = try BackupFixture()
        let saved = getenv("TMPDIR").map { String(cString: $0) }
        setenv("TMPDIR", f.source("no-such-folder"), 1)
        defer { if let saved { setenv("TMPDIR", saved, 1) } else { unsetenv("TMPDIR") } }
        let result = try importing(f, sealing: true) { [self] in
            (0..<5).flatMap { d in (0..<3).map { i in file("r/d\(d)/f\(i)", "\(d)-\(i)") } }
        }
        XCTAssertEqual(result.seals, 0)
        XCTAssertEqual(try f.snapshotEntries(result.tree).count, 1 + 5 + 15)
    }
}
