import XCTest
import SnapCore
import SnapEngine
import SnapTestSupport

final class DeduplicationTests: XCTestCase {
    // Two identical files in one backup store their chunks once; a copy in another snapshot (no parent) adds no data.
    func testIdenticalContentIsStoredOnce() throws {
        let f = try BackupFixture()
        let shared = seededBytes(count: 120_000, seed: 20)
        let unique = seededBytes(count: 50_000, seed: 21)
        let src = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(src)
        try Disk.mkdir(PathBytes.join(src, Disk.bytes("sub")))
        try Disk.write(src + Disk.bytes("/same-1"), shared)
        try Disk.write(src + Disk.bytes("/sub/same-2"), shared)
        try Disk.write(src + Disk.bytes("/unique"), unique)

        let first = try f.backup([f.source("src")])
        let entries = try f.snapshotEntries(first.snapshot.tree)
        let same1 = try XCTUnwrap(entries[src + Disk.bytes("/same-1")])
        let same2 = try XCTUnwrap(entries[src + Disk.bytes("/sub/same-2")])
        let uniqueNode = try XCTUnwrap(entries[src + Disk.bytes("/unique")])
        XCTAssertGreaterThan(same1.content.count, 2)
        XCTAssertEqual(same1.content, same2.content)
        let distinct = Set(same1.content + uniqueNode.content)
        let s1 = try XCTUnwrap(first.snapshot.summary)
        XCTAssertEqual(s1.dataBlobsAdded, distinct.count)
        XCTAssertEqual(s1.bytesRead, UInt64(2 * shared.count + unique.count), "both copies are read")
        XCTAssertGreaterThanOrEqual(s1.bytesAdded, UInt64(shared.count + unique.count))
        XCTAssertLessThan(s1.bytesAdded, UInt64(shared.count + unique.count + 20_000), "the second copy adds no content bytes")

        let other = f.sourcePath(Disk.bytes("other"))
        try Disk.mkdir(other)
        try Disk.write(other + Disk.bytes("/copy"), shared)
        let second = try f.backup([f.source("other")])
        XCTAssertNil(second.snapshot.parent, "different paths: no parent, so content is matched by chunk IDs alone")
        let s2 = try XCTUnwrap(second.snapshot.summary)
        XCTAssertEqual(s2.filesNew, 1)
        XCTAssertEqual(s2.bytesRead, UInt64(shared.count))
        XCTAssertEqual(s2.dataBlobsAdded, 0)
        XCTAssertEqual(try f.snapshotEntries(second.snapshot.tree)[other + Disk.bytes("/copy")]?.content, same1.content)

        let restore = try f.restore(second.snapshot.tree)
        XCTAssertTrue(restore.succeeded)
        XCTAssertTrue(sameBytes(try Disk.read(f.restored(other + Disk.bytes("/copy"))), shared))
    }

    // A file whose content repeats within itself stores the repeated chunks once.
    func testRepeatedChunksWithinOneFile() throws {
        let f = try BackupFixture()
        let block = seededBytes(count: 70_000, seed: 40)
        let src = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(src)
        try Disk.write(src + Disk.bytes("/repeated"), block + block + block + block)
        let result = try f.backup([f.source("src")])
        let node = try XCTUnwrap(try f.snapshotEntries(result.snapshot.tree)[src + Disk.bytes("/repeated")])
        let distinct = Set(node.content)
        XCTAssertLessThan(distinct.count, node.content.count, "content-defined chunks repeat with the data")
        XCTAssertEqual(result.snapshot.summary?.dataBlobsAdded, distinct.count)
        XCTAssertTrue(try f.restore(result.snapshot.tree).succeeded)
        XCTAssertTrue(sameBytes(try Disk.read(f.restored(src + Disk.bytes("/repeated"))), block + block + block + block))
    }
}
