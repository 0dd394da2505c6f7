import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapTestSupport

/// Reading a batch's small files ahead (`BackupOptions.prefetch`) and statting a folder's
/// entries on several threads (`statThreads`) change when data arrives, never what is
/// stored: the same tree gives the same tree IDs with them on or off.
final class BackupReadAheadTests: XCTestCase {
    /// Folders of small files (empty ones among them), a file too large to be read ahead,
    /// a symlink, a hard link, an unreadable file and a nested folder, from a fixed seed.
    private func makeTree(_ root: [UInt8]) throws {
        try Disk.mkdir(root)
        var seed: UInt64 = 0x19
        for folder in 0..<4 {
            let dir = PathBytes.join(root, Disk.bytes("d\(folder)"))
            try Disk.mkdir(dir)
            for file in 0..<150 {
                seed &+= 1
                let size = file % 9 == 0 ? 0 : 90 + Int(seed * 37 % 3000)
                try Disk.write(PathBytes.join(dir, Disk.bytes("f\(file)")), seededBytes(count: size, seed: seed))
            }
        }
        let d0 = PathBytes.join(root, Disk.bytes("d0"))
        try Disk.write(PathBytes.join(d0, Disk.bytes("large")), seededBytes(count: 300_000, seed: 7))
        try Disk.symlink(Disk.bytes("f1"), at: PathBytes.join(d0, Disk.bytes("link")))
        try Disk.link(PathBytes.join(d0, Disk.bytes("f2")), PathBytes.join(root, Disk.bytes("d1/hard")))
        let locked = PathBytes.join(root, Disk.bytes("d2/locked"))
        try Disk.write(locked, Array("no access\n".utf8))
        try Disk.chmod(locked, 0)
        try Disk.mkdir(PathBytes.join(root, Disk.bytes("d3/inner")))
        try Disk.write(PathBytes.join(root, Disk.bytes("d3/inner/x")), Array("inner\n".utf8))
    }

    private func backup(_ f: BackupFixture, prefetch: Bool, readers: Int, statThreads: Int) throws -> (tree: BlobID, warnings: Int) {
        var options = BackupOptions(paths: [f.source("src")], hostname: "test-host", username: "tester")
        options.workers = 2
        options.readers = readers
        options.prefetch = prefetch
        options.statThreads = statThreads
        options.force = true  // read every file each time, never take it from the parent
        let result = try Archiver(repository: f.repository, options: options).run()
        // The folders above src (/tmp among them) change while the tests run: compare src's tree.
        let tree = try XCTUnwrap(try f.snapshotEntries(result.snapshot.tree)[f.sourcePath(Disk.bytes("src"))]?.subtree)
        return (tree, result.warnings.count)
    }

    func testReadingAheadKeepsTheTree() throws {
        let f = try BackupFixture()
        try makeTree(f.sourcePath(Disk.bytes("src")))
        let before = try backup(f, prefetch: false, readers: 3, statThreads: 1)
        for (readers, statThreads) in [(1, 1), (3, 8), (8, 3), (3, 2)] {
            let after = try backup(f, prefetch: true, readers: readers, statThreads: statThreads)
            XCTAssertEqual(after.tree, before.tree, "the same root tree with \(readers) readers, \(statThreads) stat threads")
            XCTAssertEqual(after.warnings, before.warnings)
        }
    }
}
