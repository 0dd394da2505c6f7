#if canImport(Glibc)
import Glibc
#endif
import XCTest
import Foundation
import Synchronization
@testable import SnapEngine
import SnapTestSupport

/// A folder of the target swapped for a symlink while a restore fills it (what a user who
/// may write there can do to a restore run as root): nothing is written through the
/// symlink, and no owner or mode is set on what it leads to.
final class RestoreFolderSwapTests: XCTestCase {
    func testNothingIsWrittenThroughAFolderSwappedForASymlink() throws {
        let f = try BackupFixture()
        let folder = f.sourcePath(Disk.bytes("u"), Disk.bytes("d"))
        try Disk.mkdir(f.sourcePath(Disk.bytes("u")))
        try Disk.mkdir(folder)
        for i in 1...6 { try Disk.write(PathBytes.join(folder, Disk.bytes("f\(i)")), Array("file \(i)\n".utf8)) }
        try Disk.chmod(folder, 0o777)
        let tree = try f.backup([f.source("u")]).snapshot.tree

        let victim = try TemporaryDirectory(prefix: "snap-swap-victim")
        defer { victim.remove() }
        XCTAssertEqual(chmod(victim.path, 0o700), 0)
        let restoredFolder = f.restored(folder)
        let swapped = Mutex(false)
        let result = try f.restore(tree, batchSize: 1) { options in
            options.report = { event in
                // After the first file of the folder, the folder becomes a symlink to the victim.
                guard PathBytes.display(event.pathBytes).hasSuffix("/u/d/f1"), !swapped.withLock({ $0 }) else { return }
                swapped.withLock { $0 = true }
                let path = PathBytes.display(restoredFolder)
                _ = rename(path, path + ".old")
                _ = symlink(victim.path, path)
            }
        }
        XCTAssertTrue(swapped.withLock { $0 }, "the folder was swapped during the restore")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: victim.path), [], "nothing written through the symlink")
        var st = stat()
        XCTAssertEqual(stat(victim.path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o700, "the victim's mode is not the snapshot folder's")
        // f2 to f6 went into the folder the restore had open (renamed, still in the target),
        // or are named as not restored: none is lost without a word.
        let kept = Set(try FileManager.default.contentsOfDirectory(atPath: PathBytes.display(restoredFolder) + ".old"))
        XCTAssertTrue(kept.contains("f1"))
        for i in 2...6 {
            XCTAssertTrue(kept.contains("f\(i)") || result.unwritten.contains { $0.hasSuffix("/u/d/f\(i)") }, "f\(i): \(kept), \(result.unwritten)")
        }
    }
}
