import XCTest
#if canImport(Glibc)
import Glibc
#endif
import CPosix
import SnapCore
import SnapEngine
import SnapRepository
import SnapTestSupport

/// Reading a batch's small files ahead (`BackupOptions.prefetch`), statting a folder's
/// entries on several threads (`statThreads`) and scanning the next folders ahead of the
/// walk (`scanThreads`) change when data arrives, never what is stored: the same tree gives
/// the same tree IDs with them on or off.
final class BackupReadAheadTests: XCTestCase {
    /// Folders of small files (empty ones among them), a file too large to be read ahead,
    /// a symlink, a hard link, an unreadable file, an unreadable folder, nested folders
    /// (many small ones among them) and extended attributes, from a fixed seed.
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
        // More small folders than `FolderScanner` takes ahead (two groups of four), nested
        // three deep, some empty.
        for a in 0..<12 {
            let outer = PathBytes.join(root, Disk.bytes("p\(a)"))
            try Disk.mkdir(outer)
            for b in 0..<(a % 4) {
                let inner = PathBytes.join(outer, Disk.bytes("q\(b)"))
                try Disk.mkdir(inner)
                try Disk.mkdir(PathBytes.join(inner, Disk.bytes("r")))
                try Disk.write(PathBytes.join(inner, Disk.bytes("r/leaf")), Array("leaf \(a) \(b)\n".utf8))
                try Disk.write(PathBytes.join(inner, Disk.bytes("f")), seededBytes(count: 200 + a * b, seed: UInt64(a * 16 + b)))
            }
        }
        let closed = PathBytes.join(root, Disk.bytes("p5/closed"))
        try Disk.mkdir(closed)
        try Disk.write(PathBytes.join(closed, Disk.bytes("hidden")), Array("hidden\n".utf8))
        try Disk.chmod(closed, 0)
        for path in ["d0/f3", "d1", "p3/q1/r/leaf", "p7/q2"] {
            try tagXattr(PathBytes.join(root, Disk.bytes(path)), path)
        }
    }

    /// Sets `user.snap-test`; skips the test where the file system has no user attributes.
    private func tagXattr(_ path: [UInt8], _ value: String) throws {
        let ok = PathBytes.withCString(path) { p in
            Array(value.utf8).withUnsafeBytes { lsetxattr(p, "user.snap-test", $0.baseAddress, $0.count, 0) }
        }
        if ok != 0 && (errno == ENOTSUP || errno == EOPNOTSUPP) { throw XCTSkip("the file system has no user xattrs") }
        XCTAssertEqual(ok, 0, String(cString: strerror(errno)))
    }

    private func backup(_ f: BackupFixture, prefetch: Bool, readers: Int, statThreads: Int, scanThreads: Int = 0,
                        force: Bool = true, exclusions: BackupExclusions = BackupExclusions()) throws -> (tree: BlobID, warnings: Int) {
        var options = BackupOptions(paths: [f.source("src")], hostname: "test-host", username: "tester")
        options.workers = 2
        options.readers = readers
        options.prefetch = prefetch
        options.statThreads = statThreads
        options.scanThreads = scanThreads
        options.force = force  // true: read every file, never take it from the parent
        options.exclusions = exclusions
        let result = try Archiver(repository: f.repository, options: options).run()
        // The folders above src (/tmp among them) change while the tests run: compare src's tree.
        let tree = try XCTUnwrap(try f.snapshotEntries(result.snapshot.tree)[f.sourcePath(Disk.bytes("src"))]?.subtree)
        return (tree, result.warnings.count)
    }

    func testReadingAheadKeepsTheTree() throws {
        let f = try BackupFixture()
        try makeTree(f.sourcePath(Disk.bytes("src")))
        let before = try backup(f, prefetch: false, readers: 3, statThreads: 1)
        for (readers, statThreads, scanThreads) in [(1, 1, 0), (3, 8, 0), (8, 3, 4), (3, 2, 1), (3, 1, 8)] {
            let after = try backup(f, prefetch: true, readers: readers, statThreads: statThreads, scanThreads: scanThreads)
            XCTAssertEqual(after.tree, before.tree, "the same root tree with \(readers) readers, \(statThreads) stat threads, \(scanThreads) scan threads")
            XCTAssertEqual(after.warnings, before.warnings)
        }
    }

    /// Patterns and tag files are applied by the walk to what the scans found: the same
    /// entries are left out as when the walk lists every folder itself.
    func testScanningAheadKeepsTheExclusions() throws {
        let f = try BackupFixture()
        let src = f.sourcePath(Disk.bytes("src"))
        try makeTree(src)
        try Disk.write(PathBytes.join(src, Disk.bytes("p6/q1/r/drop.skip")), Array("dropped\n".utf8))
        try Disk.write(PathBytes.join(src, Disk.bytes("p10/q0/NOBACKUP")), [])
        var exclusions = BackupExclusions()
        exclusions.patterns.patterns = ["*.skip", "p2", "d1/f1*"]
        exclusions.tagFiles = [TagFileRule(name: Disk.bytes("NOBACKUP"))]
        let walked = try backup(f, prefetch: false, readers: 3, statThreads: 1, scanThreads: 0, exclusions: exclusions)
        let scanned = try backup(f, prefetch: true, readers: 3, statThreads: 2, scanThreads: 4, exclusions: exclusions)
        XCTAssertEqual(scanned.tree, walked.tree)
        let names = try f.snapshotEntries(scanned.tree).keys.map(PathBytes.display)
        XCTAssertFalse(names.contains { $0.hasSuffix(".skip") || $0.hasSuffix("/p2") || $0.contains("/d1/f1") })
        XCTAssertEqual(names.filter { $0.contains("/p10/q0/") }, names.filter { $0.hasSuffix("/p10/q0/NOBACKUP") })
        XCTAssertTrue(names.contains { $0.hasSuffix("/p10/q0/NOBACKUP") })
        XCTAssertTrue(names.contains { $0.hasSuffix("/p6/q1/r/leaf") })
    }

    /// With a parent snapshot, scanned folders leave the extended attributes to the walk:
    /// unchanged entries take the parent's, changed ones (here one attribute changed, one file
    /// and one folder added) are read anew; the tree is the one a walk without scans gives.
    func testScanningAheadKeepsAnIncrementalTree() throws {
        let f = try BackupFixture()
        let src = f.sourcePath(Disk.bytes("src"))
        try makeTree(src)
        _ = try backup(f, prefetch: true, readers: 3, statThreads: 2, scanThreads: 4, force: false)
        try tagXattr(PathBytes.join(src, Disk.bytes("p3/q1/r/leaf")), "changed")
        try Disk.write(PathBytes.join(src, Disk.bytes("p9/q0/new")), Array("new\n".utf8))
        try Disk.mkdir(PathBytes.join(src, Disk.bytes("p9/q0/fresh")))
        try Disk.write(PathBytes.join(src, Disk.bytes("p9/q0/fresh/g")), Array("fresh\n".utf8))
        try tagXattr(PathBytes.join(src, Disk.bytes("p9/q0/fresh/g")), "fresh")
        let scanned = try backup(f, prefetch: true, readers: 3, statThreads: 2, scanThreads: 4, force: false)
        let walked = try backup(f, prefetch: false, readers: 3, statThreads: 1, scanThreads: 0, force: true)
        XCTAssertEqual(scanned.tree, walked.tree)
        XCTAssertEqual(scanned.warnings, walked.warnings)
        let entries = try f.snapshotEntries(scanned.tree)
        func value(_ path: String) -> String? {
            let node = entries.first { PathBytes.display($0.key).hasSuffix("/" + path) }?.value
            return node?.xattrs.first.map { String(decoding: $0.value, as: UTF8.self) }
        }
        XCTAssertEqual(value("p3/q1/r/leaf"), "changed")
        XCTAssertEqual(value("p9/q0/fresh/g"), "fresh")
        XCTAssertEqual(value("d0/f3"), "d0/f3")
        XCTAssertEqual(value("p7/q2"), "p7/q2")
    }
}
