#if canImport(Glibc)
import Glibc
#endif
import CPosix
import XCTest
import SnapCore
import SnapEngine
import Synchronization
import Foundation

final class BackupChangeDetectionTests: XCTestCase {
    // An unchanged file takes its extended attributes from the parent snapshot (nothing is
    // read), but changing an attribute changes the ctime, so the next backup records the new
    // value, for files and for folders alike.
    func testChangedExtendedAttributeIsSeenAndUnchangedOnesAreKept() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        let file = PathBytes.join(source, Disk.bytes("tagged.txt"))
        let folder = PathBytes.join(source, Disk.bytes("tagged-dir"))
        try Disk.write(file, Array("content\n".utf8))
        try Disk.mkdir(folder)
        func tag(_ path: [UInt8], _ value: String) throws {
            let ok = PathBytes.withCString(path) { p in
                Array(value.utf8).withUnsafeBytes { lsetxattr(p, "user.snap-test", $0.baseAddress, $0.count, 0) }
            }
            if ok != 0 && (errno == ENOTSUP || errno == EOPNOTSUPP) { throw XCTSkip("the file system has no user xattrs") }
            XCTAssertEqual(ok, 0, String(cString: strerror(errno)))
        }
        func values(_ backup: BackupResult) throws -> [String] {
            let entries = try f.snapshotEntries(backup.snapshot.tree)
            return try [file, folder].map { path in
                let node = try XCTUnwrap(entries[path], PathBytes.display(path))
                return node.xattrs.first.map { String(decoding: $0.value, as: UTF8.self) } ?? "none"
            }
        }
        try tag(file, "one")
        try tag(folder, "one")
        XCTAssertEqual(try values(f.backup([f.source("src")])), ["one", "one"])

        let unchanged = try f.backup([f.source("src")])
        XCTAssertEqual(try values(unchanged), ["one", "one"], "kept from the parent")
        XCTAssertEqual(unchanged.snapshot.summary?.filesUnchanged, 1)

        try tag(file, "two")
        try tag(folder, "two")
        XCTAssertEqual(try values(f.backup([f.source("src")])), ["two", "two"], "an attribute changed after the parent")
    }

    // A file appended to while it is read (a log, a database) is stored as read, with a
    // remark that is not a warning (the snapshot is complete); the next backup reads it again.
    func testFileChangedWhileReadIsRemarkedAndReadAgain() throws {
        let f = try BackupFixture()
        try Disk.mkdir(f.sourcePath(Disk.bytes("src")))
        let log = f.sourcePath(Disk.bytes("src"), Disk.bytes("growing.log"))
        try Disk.write(log, Array(repeating: 0x61, count: 32 << 20))
        let remarks = Mutex<[BackupWarning]>([])
        func backup() throws -> BackupResult {
            var options = BackupOptions(paths: [f.source("src")], hostname: "test-host", username: "tester")
            options.workers = 2
            return try Archiver(repository: f.repository, options: options,
                                warnItem: { w in remarks.withLock { $0.append(w) } }).run()
        }
        // One byte every 2 ms from before the walk until after the backup: reading 32 MiB
        // takes far longer, so the file's size and mtime change during the read.
        let appending = Atomic<Bool>(true)
        let appender = Thread {
            let fd = PathBytes.withCString(log) { open($0, O_WRONLY | O_APPEND) }
            defer { close(fd) }
            while appending.load(ordering: .relaxed) {
                _ = write(fd, "b", 1)
                usleep(2000)
            }
        }
        appender.start()
        usleep(20_000)
        let first = try backup()
        appending.store(false, ordering: .relaxed)
        usleep(20_000)
        let seen = remarks.withLock { $0 }
        XCTAssertEqual(seen.map(\.path), [log], seen.map(\.description).joined(separator: "\n"))
        XCTAssertTrue(seen.first?.message.contains("changed while it was read") ?? false)
        XCTAssertEqual(first.snapshot.summary?.warnings, 0, "a remark, not a warning")

        remarks.withLock { $0 = [] }
        let second = try backup()
        XCTAssertEqual(second.snapshot.summary?.filesChanged, 1, "read again")
        XCTAssertTrue(remarks.withLock { $0.isEmpty })
        let node = try XCTUnwrap(f.snapshotEntries(second.snapshot.tree)[log])
        XCTAssertEqual(node.size, UInt64(try Disk.read(log).count))
    }

    // A hard-linked pair that did not change since the parent snapshot: the first name is
    // taken from the parent without reading, and the second still names it and shares its
    // content; editing the file through one name shows in both.
    func testUnchangedHardLinkPairStaysLinked() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        let first = PathBytes.join(source, Disk.bytes("a.bin")), second = PathBytes.join(source, Disk.bytes("b.bin"))
        try Disk.write(first, Array(repeating: 7, count: 5000))
        try Disk.link(first, second)
        func pair(_ backup: BackupResult) throws -> (file: Node, link: Node) {
            let entries = try f.snapshotEntries(backup.snapshot.tree)
            return (try XCTUnwrap(entries[first]), try XCTUnwrap(entries[second]))
        }
        let initial = try pair(f.backup([f.source("src")]))

        let unchanged = try f.backup([f.source("src")])
        XCTAssertEqual(unchanged.snapshot.summary?.filesUnchanged, 2, "both names: the first from the parent, the second after it")
        XCTAssertEqual(unchanged.snapshot.summary?.bytesRead, 0)
        let (file, link) = try pair(unchanged)
        XCTAssertEqual(file.content, initial.file.content)
        XCTAssertEqual(link.type, .hardlink)
        XCTAssertEqual(link.linkTarget, first)
        XCTAssertEqual(link.content, file.content)
        XCTAssertEqual(link.size, 5000)

        try Disk.write(second, Array(repeating: 9, count: 6000))
        let edited = try pair(f.backup([f.source("src")]))
        XCTAssertNotEqual(edited.file.content, file.content)
        XCTAssertEqual(edited.link.content, edited.file.content)
        XCTAssertEqual(edited.link.size, 6000)
    }

    // Three names of one file, in the order the walk meets them: the first is stored as a
    // file and each further one names it, in the first backup (content still being read)
    // and in the next (content known at once). The archiver forgets the inode only after
    // its last name, so the third is not stored as a file of its own.
    func testEveryFurtherNameOfAThriceLinkedFileNamesTheFirst() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        let names = ["a.bin", "b.bin", "c.bin"].map { PathBytes.join(source, Disk.bytes($0)) }
        try Disk.write(names[0], Array(repeating: 3, count: 9000))
        for name in names.dropFirst() { try Disk.link(names[0], name) }
        for run in ["first", "unchanged"] {
            let entries = try f.snapshotEntries(f.backup([f.source("src")]).snapshot.tree)
            let nodes = try names.map { try XCTUnwrap(entries[$0]) }
            XCTAssertEqual(nodes.map(\.type), [.file, .hardlink, .hardlink], run)
            for link in nodes.dropFirst() {
                XCTAssertEqual(link.linkTarget, names[0], run)
                XCTAssertEqual(link.content, nodes[0].content, run)
                XCTAssertEqual(link.size, 9000, run)
            }
        }
    }

    // A file written again with the same size inside one timestamp step of the backup that
    // read it (2 s on FAT, 1 s on exFAT) shows the times that backup recorded. Its times fell
    // in the parent's read window, so the next backup reads it again (once) and stores the new
    // content; a file whose times are an hour older is taken from the parent unread, and one
    // read again with the same content counts as unchanged.
    func testAFileRewrittenWithinTheParentsTimestampStepIsReadAgain() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        let racy = PathBytes.join(source, Disk.bytes("racy.txt"))
        let old = PathBytes.join(source, Disk.bytes("old.txt"))
        let same = PathBytes.join(source, Disk.bytes("same.txt"))
        try Disk.write(racy, Array("AAAA-1\n".utf8))
        try Disk.write(old, Array("old\n".utf8))
        try Disk.write(same, Array("same\n".utf8))
        let now = Int(Date().timeIntervalSince1970)
        try Disk.setMtime(racy, seconds: now, nanoseconds: 0)
        try Disk.setMtime(old, seconds: now - 3600, nanoseconds: 0)
        try Disk.setMtime(same, seconds: now, nanoseconds: 0)
        // The change time cannot be set back; a file system whose steps hide the write hides
        // it from both times, as this test does by leaving the change time out.
        func backup() throws -> BackupResult {
            var options = BackupOptions(paths: [f.source("src")], hostname: "test-host", username: "tester")
            options.ignoreCtime = true
            return try Archiver(repository: f.repository, options: options).run()
        }
        _ = try backup()
        try Disk.write(racy, Array("BBBB-1\n".utf8))
        try Disk.setMtime(racy, seconds: now, nanoseconds: 0)
        let second = try backup()
        let content = try f.snapshotEntries(second.snapshot.tree)[racy]?.content ?? []
        let stored = try content.flatMap { try f.repository.loadBlob($0) }
        XCTAssertEqual(String(decoding: stored, as: UTF8.self), "BBBB-1\n")
        XCTAssertEqual(second.snapshot.summary?.filesChanged, 1, "racy.txt")
        XCTAssertEqual(second.snapshot.summary?.filesUnchanged, 2, "old.txt unread, same.txt read again as it was")
        XCTAssertEqual(second.snapshot.summary?.bytesRead, 7 + 5, "racy.txt and same.txt, not old.txt")
    }
}
