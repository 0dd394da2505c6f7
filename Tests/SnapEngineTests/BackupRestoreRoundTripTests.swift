import XCTest
import SnapCore
import SnapEngine
import SnapRepository

final class BackupRestoreRoundTripTests: XCTestCase {
    // Files of several chunks, an empty file and folder, symlinks, a hard link pair, a fifo and non-UTF-8 names
    // come back with the same types, contents, modes and times.
    func testRoundTripOfEveryKindOfEntry() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try SampleTree.build(at: source)
        let backup = try f.backup([f.source("src")])
        XCTAssertEqual(backup.warnings, [])

        let restore = try f.restore(backup.snapshot.tree)
        XCTAssertTrue(restore.succeeded, "errors: \(restore.errors), damaged: \(restore.damagedBlobs.map(\.reason))")
        let restored = f.restored(source)
        assertSameListing(try Disk.listing(restored), try Disk.listing(source))
        XCTAssertEqual(try DiskEntry(at: restored), try DiskEntry(at: source), "the backed-up folder itself")

        let first = try Disk.lstat(PathBytes.join(restored, Disk.bytes("hard-1")))
        let second = try Disk.lstat(PathBytes.join(PathBytes.join(restored, Disk.bytes("docs")), Disk.bytes("hard-2")))
        XCTAssertEqual(first.st_ino, second.st_ino, "the hard link pair is one file again")
        XCTAssertEqual(first.st_nlink, 2)
        XCTAssertEqual(restore.files, 8)
        XCTAssertEqual(restore.directories, SampleTree.directories + PathBytes.components(Disk.bytes(f.sourceDirectory.path)).count)
        XCTAssertEqual(restore.otherEntries, 3, "two symlinks and a fifo")
    }

    // A file with three names in the backup comes back as one file with three names, in small
    // batches too; a file whose second name lies outside the backup comes back as a plain file.
    func testThreeNamesAndALinkFromOutside() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        let names = ["a", "b", "c"].map { PathBytes.join(source, Disk.bytes($0)) }
        try Disk.write(names[0], Array("three names\n".utf8))
        try Disk.link(names[0], names[1])
        try Disk.link(names[0], names[2])
        let inside = PathBytes.join(source, Disk.bytes("d"))
        try Disk.write(inside, Array("one name inside\n".utf8))
        try Disk.link(inside, f.sourcePath(Disk.bytes("outside")))
        let backup = try f.backup([f.source("src")])
        XCTAssertEqual(backup.warnings, [])

        for batchSize in [16_384, 1] {
            let restore = try f.restore(backup.snapshot.tree, batchSize: batchSize)
            XCTAssertTrue(restore.succeeded, "batch \(batchSize): \(restore.errors)")
            let restored = names.map { try? Disk.lstat(f.restored($0)) }
            XCTAssertEqual(Set(restored.map { $0?.st_ino }).count, 1, "batch \(batchSize): three names, one file")
            XCTAssertEqual(restored[0]?.st_nlink, 3, "batch \(batchSize)")
            XCTAssertEqual(try Disk.lstat(f.restored(inside)).st_nlink, 1, "batch \(batchSize)")
            XCTAssertEqual(try Disk.read(f.restored(names[2])), Array("three names\n".utf8))
        }
    }

    // Restored two entries at a time (so hard-link pairs, folders and their contents fall in
    // different batches), over a previous restore of the same tree, with modes the umask
    // would change and set-ID bits: everything comes back as it was.
    func testRoundTripInSmallBatchesOverAnEarlierRestore() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try SampleTree.build(at: source)
        let writable = PathBytes.join(source, Disk.bytes("writable.txt"))
        try Disk.write(writable, Array("group and others may write\n".utf8))
        try Disk.chmod(writable, 0o666)
        let setuid = PathBytes.join(source, Disk.bytes("setuid-tool"))
        try Disk.write(setuid, Array("#!/bin/sh\n".utf8))
        try Disk.chmod(setuid, 0o4755)
        let backup = try f.backup([f.source("src")])
        XCTAssertEqual(backup.warnings, [])

        for round in 1...2 {
            let restore = try f.restore(backup.snapshot.tree, batchSize: 2)
            XCTAssertTrue(restore.succeeded, "round \(round): \(restore.errors) \(restore.damagedBlobs.map(\.reason))")
            let restored = f.restored(source)
            assertSameListing(try Disk.listing(restored), try Disk.listing(source), "round \(round)")
            XCTAssertEqual(try DiskEntry(at: restored), try DiskEntry(at: source), "round \(round): the backed-up folder itself")
            XCTAssertEqual(try Disk.lstat(PathBytes.join(restored, Disk.bytes("writable.txt"))).st_mode & 0o7777, 0o666)
            XCTAssertEqual(try Disk.lstat(PathBytes.join(restored, Disk.bytes("setuid-tool"))).st_mode & 0o7777, 0o4755)
            let first = try Disk.lstat(PathBytes.join(restored, Disk.bytes("hard-1")))
            let second = try Disk.lstat(PathBytes.join(PathBytes.join(restored, Disk.bytes("docs")), Disk.bytes("hard-2")))
            XCTAssertEqual(first.st_ino, second.st_ino, "round \(round): the hard link pair is one file again")
        }
    }

    // Big files are stored as several chunks, and the second name of a hard link refers to the first.
    func testSnapshotNodes() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try SampleTree.build(at: source)
        let entries = try f.snapshotEntries(try f.backup([f.source("src")]).snapshot.tree)
        func node(_ relative: String) throws -> Node { try XCTUnwrap(entries[source + Disk.bytes("/" + relative)], relative) }

        let big = try node("big.bin")
        XCTAssertEqual(big.type, .file)
        XCTAssertEqual(big.size, UInt64(SampleTree.bigSize))
        XCTAssertGreaterThan(big.content.count, 2, "200 kB at 16 KiB average chunks")
        XCTAssertEqual(big.mtime, Timestamp(seconds: 1_600_000_000, nanoseconds: 123_456_789))
        XCTAssertEqual(try node("empty.txt").content, [])
        XCTAssertEqual(try node("link-to-readme").linkTarget, Disk.bytes("docs/readme.txt"))
        XCTAssertEqual(try node("fifo").type, .fifo)
        XCTAssertNotNil(try node("empty-dir").subtree)

        let pair = [try node("hard-1"), try node("docs/hard-2")]
        let link = try XCTUnwrap(pair.first { $0.type == .hardlink })
        let target = try XCTUnwrap(pair.first { $0.type == .file })
        XCTAssertEqual(link.linkTarget, entries.first { $0.value == target }?.key, "a hard link names the first path")
        XCTAssertEqual(link.content, target.content)
        XCTAssertEqual(link.size, UInt64(SampleTree.hardSize))
    }
}
