import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

final class SnapshotImporterTests: XCTestCase {
    private func path(_ text: String) -> [[UInt8]] { text.split(separator: "/").map { Array($0.utf8) } }

    private func node(_ type: NodeType, mode: UInt32 = 0o644, mtime: Int64 = 1_600_000_000, linkTarget: String = "") -> Node {
        Node(name: [], type: type, mode: mode, uid: 1234, gid: 5678, user: "alice", group: "staff",
             mtime: Timestamp(seconds: mtime, nanoseconds: 123_456_789), linkTarget: Array(linkTarget.utf8))
    }

    /// Content handed out a few bytes at a time, as a pipe would.
    private func stream(_ bytes: [UInt8], step: Int = 7777) -> ImportContent {
        var offset = 0
        return .stream { space in
            let n = min(space.count, step, bytes.count - offset)
            bytes.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + n])) }
            offset += n
            return n
        }
    }

    private func labels(_ origin: SnapshotOrigin? = nil) -> ImportedSnapshot {
        ImportedSnapshot(time: Timestamp(seconds: 1_500_000_000, nanoseconds: 5), hostname: "old-host", username: "bob",
                         paths: ["/"], tags: ["imported"], origin: origin)
    }

    private func importing(_ f: BackupFixture, _ labels: ImportedSnapshot? = nil,
                           _ body: (SnapshotImporter) throws -> Void) throws -> BackupResult {
        try withImporter(f) { importer in
            try body(importer)
            return try importer.save(labels ?? self.labels())
        }
    }

    // Entries in any order: folders implied by their children's paths take the snapshot's
    // time, a folder's own entry arriving after its children gives it its metadata, and
    // content, times with nanoseconds, owners and xattrs come back as given.
    func testEntriesInAnyOrderBecomeOneSnapshot() throws {
        let f = try BackupFixture()
        let big = seededBytes(count: 300_000, seed: 3)
        let result = try importing(f, labels(SnapshotOrigin(format: "tar", id: ""))) { importer in
            var file = node(.file, mode: 0o600)
            file.xattrs = [ExtendedAttribute(name: Array("user.note".utf8), value: [0, 1, 2])]
            try importer.add(ImportEntry(path: path("home/alice/big"), node: file, content: stream(big)))
            try importer.add(ImportEntry(path: path("home/alice/link"), node: node(.symlink, mode: 0o777, linkTarget: "big")))
            try importer.add(ImportEntry(path: path("home/alice"), node: node(.directory, mode: 0o700, mtime: 1_000)))
            try importer.add(ImportEntry(path: [[0x66, 0xff]], node: node(.file), content: stream([9, 9, 9])))
            var fifo = node(.fifo)
            fifo.size = 99
            try importer.add(ImportEntry(path: path("pipe"), node: fifo))
        }
        XCTAssertEqual(result.state, .saved)
        let saved = try SnapshotStore.load(result.id, from: f.repository)
        XCTAssertEqual(saved.hostname, "old-host")
        XCTAssertEqual(saved.username, "bob")
        XCTAssertEqual(saved.paths, ["/"])
        XCTAssertEqual(saved.tags, ["imported"])
        XCTAssertEqual(saved.timestamp, Timestamp(seconds: 1_500_000_000, nanoseconds: 5))
        XCTAssertEqual(saved.importedFrom, SnapshotOrigin(format: "tar", id: ""))
        XCTAssertEqual(saved.summary?.filesNew, 2)

        let entries = try f.snapshotEntries(saved.tree)
        XCTAssertEqual(Set(entries.keys), Set(["/home", "/home/alice", "/home/alice/big", "/home/alice/link", "/pipe"].map { Array($0.utf8) } + [[47, 0x66, 0xff]]))
        let home = try XCTUnwrap(entries[Array("/home".utf8)])
        XCTAssertEqual(home.mode, 0o755, "implied")
        XCTAssertEqual(home.mtime, saved.timestamp, "an implied folder is timed as the snapshot")
        let alice = try XCTUnwrap(entries[Array("/home/alice".utf8)])
        XCTAssertEqual(alice.mode, 0o700, "the folder's own entry, though it came after its children")
        XCTAssertEqual(alice.mtime.seconds, 1_000)
        let bigNode = try XCTUnwrap(entries[Array("/home/alice/big".utf8)])
        XCTAssertEqual(bigNode.size, UInt64(big.count))
        XCTAssertEqual(bigNode.mtime, Timestamp(seconds: 1_600_000_000, nanoseconds: 123_456_789))
        XCTAssertEqual(bigNode.user, "alice")
        XCTAssertEqual(bigNode.xattrs, [ExtendedAttribute(name: Array("user.note".utf8), value: [0, 1, 2])])
        XCTAssertGreaterThan(bigNode.content.count, 3, "chunked with the repository's chunker")
        var restored: [UInt8] = []
        for id in bigNode.content { restored += try f.repository.loadBlob(id) }
        XCTAssertEqual(restored, big)
        XCTAssertEqual(entries[Array("/home/alice/link".utf8)]?.linkTarget, Array("big".utf8))
        XCTAssertEqual(entries[Array("/pipe".utf8)]?.size, 0, "only files have a size")
        XCTAssertEqual(try f.backend.list(.locks).count, 0, "the lock is released")
    }

    // Hard links: whatever order the names came in, the first in snapshot order is stored as
    // the file and the others as hardlink nodes naming it, every name counting them all;
    // a restore makes them one inode.
    func testHardLinksNameTheFirstInSnapshotOrder() throws {
        let f = try BackupFixture()
        let result = try importing(f) { importer in
            let content = try importer.add(ImportEntry(path: path("b/x"), node: node(.file), content: stream(Array("shared".utf8))))
            let linked = try importer.add(ImportEntry(path: path("a/y"), node: node(.hardlink, linkTarget: "b/x")))
            XCTAssertEqual(linked, content, "a further name returns the file's content")
            try importer.add(ImportEntry(path: path("c"), node: node(.hardlink, linkTarget: "./a/y")))
            try importer.add(ImportEntry(path: path("d"), node: node(.hardlink, linkTarget: "missing")))
        }
        XCTAssertEqual(result.warnings.count, 1, "\(result.warnings)")
        XCTAssertTrue(result.warnings.first?.hasPrefix("/d: hard link to missing") == true, "\(result.warnings)")
        let entries = try f.snapshotEntries(result.snapshot.tree)
        let first = try XCTUnwrap(entries[Array("/a/y".utf8)])
        XCTAssertEqual(first.type, .file)
        XCTAssertEqual(first.links, 3)
        for name in ["/b/x", "/c"] {
            let further = try XCTUnwrap(entries[Array(name.utf8)])
            XCTAssertEqual(further.type, .hardlink, name)
            XCTAssertEqual(further.linkTarget, Array("/a/y".utf8), name)
            XCTAssertEqual(further.content, first.content, name)
            XCTAssertEqual(further.links, 3, name)
        }
        XCTAssertNil(entries[Array("/d".utf8)])
        let restore = try f.restore(result.snapshot.tree)
        XCTAssertTrue(restore.succeeded, "\(restore.errors)")
        let a = try Disk.lstat(f.restored(Array("/a/y".utf8)))
        let b = try Disk.lstat(f.restored(Array("/b/x".utf8)))
        XCTAssertEqual(a.st_ino, b.st_ino)
        XCTAssertEqual(a.st_nlink, 3)
    }

    // Known content is taken without reading anything or storing a data blob; content the
    // repository does not have is refused.
    func testKnownContentIsNotStoredAgain() throws {
        let f = try BackupFixture()
        var blobs: [BlobID] = []
        let content = seededBytes(count: 100_000, seed: 8)
        _ = try importing(f) { blobs = try $0.add(ImportEntry(path: path("f"), node: node(.file), content: stream(content))) }
        let second = try importing(f) { importer in
            try importer.add(ImportEntry(path: path("g"), node: node(.file), content: .known(blobs: blobs, size: UInt64(content.count))))
        }
        XCTAssertEqual(second.snapshot.summary?.dataBlobsAdded, 0)
        XCTAssertEqual(second.snapshot.summary?.filesUnchanged, 1)
        let g = try XCTUnwrap(try f.snapshotEntries(second.snapshot.tree)[Array("/g".utf8)])
        XCTAssertEqual(g.content, blobs)
        XCTAssertEqual(g.size, UInt64(content.count))

        // Within one snapshot too: the first file's blobs may still be on their way into a pack.
        let repeated = seededBytes(count: 200_000, seed: 9)
        let within = try importing(f) { importer in
            let first = try importer.add(ImportEntry(path: path("a"), node: node(.file), content: stream(repeated)))
            try importer.add(ImportEntry(path: path("b"), node: node(.file), content: .known(blobs: first, size: UInt64(repeated.count))))
        }
        let entries = try f.snapshotEntries(within.snapshot.tree)
        XCTAssertEqual(entries[Array("/b".utf8)]?.content, entries[Array("/a".utf8)]?.content)
        XCTAssertEqual(within.snapshot.summary?.filesUnchanged, 1)
        let restore = try f.restore(within.snapshot.tree)
        XCTAssertTrue(restore.succeeded, "\(restore.errors)")
        XCTAssertEqual(try Disk.read(f.restored(Array("/b".utf8))), repeated)

        let unknown = f.repository.keys.blobID(of: [1, 2, 3])
        XCTAssertThrowsError(try importing(f) { importer in
            try importer.add(ImportEntry(path: path("h"), node: node(.file), content: .known(blobs: [unknown], size: 3)))
        }) { error in
            XCTAssertEqual(error as? ImportError, .unknownContent(path: "/h", blob: unknown.short))
        }
    }

    // A later entry of the same path replaces the earlier, as tar extraction does; a folder
    // replaces a file in its way.
    func testLaterEntryReplacesEarlier() throws {
        let f = try BackupFixture()
        let result = try importing(f) { importer in
            try importer.add(ImportEntry(path: path("x"), node: node(.file), content: stream([1])))
            try importer.add(ImportEntry(path: path("x"), node: node(.file), content: stream([2, 2])))
            try importer.add(ImportEntry(path: path("y"), node: node(.file), content: stream([3])))
            try importer.add(ImportEntry(path: path("y/z"), node: node(.symlink, linkTarget: "t")))
        }
        let entries = try f.snapshotEntries(result.snapshot.tree)
        XCTAssertEqual(entries[Array("/x".utf8)]?.size, 2)
        XCTAssertEqual(entries[Array("/y".utf8)]?.type, .directory)
        XCTAssertEqual(entries[Array("/y/z".utf8)]?.type, .symlink)
    }

    // Names a tree cannot hold are refused with the path, and a source's failure abandons
    // the import: no snapshot, and the lock goes with the session.
    func testUnusablePathsAndFailingSourcesSaveNothing() throws {
        let f = try BackupFixture()
        for bad in [[Array("a".utf8), Array("..".utf8)], [Array("a".utf8), []], [[0x61, 0x00]], []] {
            XCTAssertThrowsError(try importing(f) { try $0.add(ImportEntry(path: bad, node: self.node(.file))) }) { error in
                guard case .unusablePath? = error as? ImportError else { return XCTFail("\(error)") }
            }
        }
        struct Broken: Error {}
        XCTAssertThrowsError(try importing(f) { importer in
            try importer.add(ImportEntry(path: path("f"), node: node(.file), content: .stream { _ in throw Broken() }))
        }) { XCTAssertTrue($0 is Broken, "\($0)") }
        XCTAssertThrowsError(try importing(f) { importer in
            try importer.add(ImportEntry(path: path("f"), node: node(.file), content: .stream { $0.count + 1 }))
        }) { XCTAssertEqual($0 as? ImportError, .streamOverrun(path: "/f")) }
        XCTAssertEqual(try SnapshotStore.all(in: f.repository).count, 0)
        XCTAssertEqual(try f.backend.list(.locks).count, 0)
    }
}
