import XCTest
import SnapEngine

final class BackupSummaryTests: XCTestCase {
    // First backup counts every file as new; an unchanged second backup reads nothing and adds no data;
    // after one file's content and mtime change and a file is added, exactly those are changed and new.
    func testSummaryCountsAcrossThreeBackups() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try SampleTree.build(at: source)

        let first = try f.backup([f.source("src")])
        let s1 = try XCTUnwrap(first.snapshot.summary)
        XCTAssertNil(first.snapshot.parent)
        XCTAssertEqual(s1.filesNew, SampleTree.filesNew)
        XCTAssertEqual(s1.filesChanged, 0)
        XCTAssertEqual(s1.filesUnchanged, 0)
        XCTAssertEqual(s1.directories, SampleTree.directories)
        XCTAssertEqual(first.directories.new, SampleTree.directories, "the folders above the backed-up path are not counted")
        XCTAssertEqual(s1.bytesRead, SampleTree.bytesRead)
        XCTAssertGreaterThan(s1.dataBlobsAdded, 5)
        XCTAssertGreaterThan(s1.blobsAdded, s1.dataBlobsAdded, "tree blobs are counted too")
        XCTAssertEqual(s1.warnings, 0)

        let second = try f.backup([f.source("src")])
        let s2 = try XCTUnwrap(second.snapshot.summary)
        XCTAssertEqual(second.snapshot.parent, first.id)
        XCTAssertEqual(s2.filesNew, 0)
        XCTAssertEqual(s2.filesChanged, 0)
        XCTAssertEqual(s2.filesUnchanged, SampleTree.filesNew)
        XCTAssertEqual(s2.dataBlobsAdded, 0)
        XCTAssertEqual(s2.bytesRead, 0)
        XCTAssertEqual(s2.bytesProcessed, s1.bytesProcessed)

        let big = PathBytes.join(source, Disk.bytes("big.bin"))
        var content = try Disk.read(big)
        content[100_000] ^= 0xff
        content += [1, 2, 3]
        try Disk.write(big, content)
        try Disk.setMtime(big, seconds: 1_700_000_000)
        try Disk.write(PathBytes.join(source, Disk.bytes("added.txt")), Array("new\n".utf8))

        let third = try f.backup([f.source("src")])
        let s3 = try XCTUnwrap(third.snapshot.summary)
        XCTAssertEqual(third.snapshot.parent, second.id)
        XCTAssertEqual(s3.filesNew, 1)
        XCTAssertEqual(s3.filesChanged, 1)
        XCTAssertEqual(s3.filesUnchanged, SampleTree.filesNew - 1)
        XCTAssertEqual(s3.bytesRead, UInt64(content.count + 4))
        XCTAssertGreaterThanOrEqual(s3.dataBlobsAdded, 2, "the changed chunk(s) of big.bin and added.txt")
        XCTAssertLessThan(s3.dataBlobsAdded, s1.dataBlobsAdded, "unchanged chunks are not stored again")
    }

    // A backup with another host does not use the first as parent, so it reads every file again.
    func testParentMustHaveSameHost() throws {
        let f = try BackupFixture()
        try SampleTree.build(at: f.sourcePath(Disk.bytes("src")))
        _ = try f.backup([f.source("src")], hostname: "one")
        let other = try f.backup([f.source("src")], hostname: "two")
        XCTAssertNil(other.snapshot.parent)
        XCTAssertEqual(other.snapshot.summary?.filesNew, SampleTree.filesNew)
        XCTAssertEqual(other.snapshot.summary?.dataBlobsAdded, 0, "content already stored is not stored again")
    }
}

/// Every name of a multiply-linked file is counted as a file (restic's counts), and its
/// content is read once.
final class BackupHardLinkCountTests: XCTestCase {
    func testEveryNameIsCountedNewChangedOrUnchanged() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        let first = PathBytes.join(source, Disk.bytes("a"))
        try Disk.write(first, Array(repeating: 7, count: 10_000))
        try Disk.link(first, PathBytes.join(source, Disk.bytes("b")))
        try Disk.link(first, PathBytes.join(source, Disk.bytes("c")))

        let s1 = try XCTUnwrap(try f.backup([f.source("src")]).snapshot.summary)
        XCTAssertEqual([s1.filesNew, s1.filesChanged, s1.filesUnchanged], [3, 0, 0])
        XCTAssertEqual(s1.bytesRead, 10_000, "read once")
        XCTAssertEqual(s1.bytesProcessed, 30_000)

        let s2 = try XCTUnwrap(try f.backup([f.source("src")]).snapshot.summary)
        XCTAssertEqual([s2.filesNew, s2.filesChanged, s2.filesUnchanged], [0, 0, 3])
        XCTAssertEqual(s2.bytesRead, 0)

        try Disk.write(first, Array(repeating: 8, count: 10_000))  // in place: every name changes
        try Disk.setMtime(first, seconds: 1_700_000_000)
        try Disk.write(PathBytes.join(source, Disk.bytes("d")), Array("new\n".utf8))
        let s3 = try XCTUnwrap(try f.backup([f.source("src")]).snapshot.summary)
        XCTAssertEqual([s3.filesNew, s3.filesChanged, s3.filesUnchanged], [1, 3, 0])
        XCTAssertEqual(s3.bytesRead, 10_004)
    }
}
