import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

final class BackupControlTests: XCTestCase {
    private func options(_ f: BackupFixture, _ paths: [String], _ change: (inout BackupOptions) -> Void = { _ in }) -> BackupOptions {
        var options = BackupOptions(paths: paths, hostname: "test-host", username: "tester")
        options.workers = 2
        change(&options)
        return options
    }

    // A dry run reads and counts everything but writes no file at all: no lock, pack, index or snapshot.
    func testDryRunWritesNothing() throws {
        let f = try BackupFixture()
        try SampleTree.build(at: f.sourcePath(Disk.bytes("src")))
        let before = try allFiles(f.backend)
        let result = try Archiver(repository: f.repository, options: options(f, [f.source("src")]) { $0.dryRun = true }).run()
        XCTAssertEqual(result.state, .dryRun)
        XCTAssertEqual(try allFiles(f.backend), before)
        let summary = try XCTUnwrap(result.snapshot.summary)
        XCTAssertEqual(summary.filesNew, SampleTree.filesNew)
        XCTAssertEqual(summary.bytesRead, SampleTree.bytesRead)
        XCTAssertGreaterThan(summary.dataBlobsAdded, 5, "what would be added is counted")
        XCTAssertGreaterThan(summary.bytesStored, 0)
        // A real backup afterwards stores what the dry run said it would.
        let real = try f.backup([f.source("src")])
        XCTAssertEqual(real.snapshot.summary?.blobsAdded, summary.blobsAdded)
        XCTAssertEqual(real.snapshot.summary?.bytesAdded, summary.bytesAdded)
    }

    // --skip-if-unchanged saves no snapshot when the tree equals the parent's, and one as soon as something changed.
    func testSkipIfUnchanged() throws {
        let f = try BackupFixture()
        // The folders on the way to a backed-up path are part of its tree, and /tmp's time
        // changes whenever another process makes a file in it: back up from a quieter place.
        let quiet = try TemporaryDirectory(prefix: "snap-quiet", in: "/var/tmp")
        defer { quiet.remove() }
        try SampleTree.build(at: Disk.bytes(quiet.appending("src")))
        let first = try f.backup([quiet.appending("src")])
        let skipping = options(f, [quiet.appending("src")]) { $0.skipIfUnchanged = true }
        let second = try Archiver(repository: f.repository, options: skipping).run()
        XCTAssertEqual(second.state, .unchanged)
        XCTAssertEqual(second.id, first.id)
        XCTAssertEqual(try SnapshotStore.all(in: f.repository).count, 1)
        try Disk.write(Disk.bytes(quiet.appending("src/added.txt")), [1, 2, 3])
        let third = try Archiver(repository: f.repository, options: skipping).run()
        XCTAssertEqual(third.state, .saved)
        XCTAssertEqual(try SnapshotStore.all(in: f.repository).count, 2)
    }

    // --force reads every file again although the parent says they are unchanged; the snapshot still names the parent.
    func testForceRereadsUnchangedFiles() throws {
        let f = try BackupFixture()
        try SampleTree.build(at: f.sourcePath(Disk.bytes("src")))
        let first = try f.backup([f.source("src")])
        let forced = try Archiver(repository: f.repository, options: options(f, [f.source("src")]) { $0.force = true }).run()
        let summary = try XCTUnwrap(forced.snapshot.summary)
        XCTAssertEqual(summary.bytesRead, SampleTree.bytesRead)
        XCTAssertEqual(summary.filesUnchanged, 0)
        XCTAssertEqual(forced.snapshot.parent, first.id)
        // The source folder's own tree: the folders above it (/tmp) may change meanwhile.
        let source = Disk.bytes(f.source("src"))
        XCTAssertEqual(try f.snapshotEntries(forced.snapshot.tree)[source]?.subtree,
                       try f.snapshotEntries(first.snapshot.tree)[source]?.subtree, "same content, same tree")
    }

    // The parent is chosen by --group-by: with host only, a snapshot of other paths on the same host is the parent.
    func testGroupByChoosesTheParent() throws {
        let f = try BackupFixture()
        try SampleTree.build(at: f.sourcePath(Disk.bytes("src")))
        try Disk.mkdir(f.sourcePath(Disk.bytes("other")))
        let first = try f.backup([f.source("src")])
        let byPaths = try Archiver(repository: f.repository, options: options(f, [f.source("src"), f.source("other")])).run()
        XCTAssertNil(byPaths.snapshot.parent, "other paths: no parent by default")
        let byHost = try Archiver(repository: f.repository, options: options(f, [f.source("other")]) { $0.groupBy = SnapshotGrouping(byHost: true) }).run()
        XCTAssertEqual(byHost.snapshot.parent, byPaths.id)
        _ = first
    }

    // --ignore-inode: a file copied over (new inode, same size and mtime) still counts as unchanged.
    func testIgnoreInodeKeepsCopiedFilesUnchanged() throws {
        let f = try BackupFixture()
        let src = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(src)
        let file = PathBytes.join(src, Disk.bytes("a.bin"))
        try Disk.write(file, Array(repeating: 7, count: 10_000))
        try Disk.setMtime(file, seconds: 1_600_000_000)
        _ = try f.backup([f.source("src")])
        let moved = PathBytes.join(src, Disk.bytes("tmp"))
        try Disk.write(moved, Array(repeating: 7, count: 10_000))
        try Disk.setMtime(moved, seconds: 1_600_000_000)
        XCTAssertEqual(PathBytes.withCString(moved) { from in PathBytes.withCString(file) { rename(from, $0) } }, 0)
        let plain = try Archiver(repository: f.repository, options: options(f, [f.source("src")])).run()
        XCTAssertEqual(plain.snapshot.summary?.filesChanged, 1, "a new inode is a change by default")
        try Disk.write(moved, Array(repeating: 7, count: 10_000))
        try Disk.setMtime(moved, seconds: 1_600_000_000)
        XCTAssertEqual(PathBytes.withCString(moved) { from in PathBytes.withCString(file) { rename(from, $0) } }, 0)
        let ignoring = try Archiver(repository: f.repository, options: options(f, [f.source("src")]) {
            $0.ignoreInode = true
            $0.ignoreCtime = true
        }).run()
        XCTAssertEqual(ignoring.snapshot.summary?.filesUnchanged, 1)
        XCTAssertEqual(ignoring.snapshot.summary?.bytesRead, 0)
    }

    // Each settled file and folder is reported with what happened to it.
    func testProgressReportsEveryItem() throws {
        let f = try BackupFixture()
        let src = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(src)
        try Disk.write(PathBytes.join(src, Disk.bytes("a")), [1])
        _ = try f.backup([f.source("src")])
        try Disk.write(PathBytes.join(src, Disk.bytes("b")), [2])
        let seen = Locked<[String: BackupProgress.Action]>([:])
        let progress = BackupProgress { item in seen.update { $0[PathBytes.display(item.path) + (item.isDirectory ? "/" : "")] = item.action } }
        let result = try Archiver(repository: f.repository, options: options(f, [f.source("src")]), progress: progress).run()
        let items = seen.value
        XCTAssertEqual(items[f.source("src") + "/a"], .unchanged)
        XCTAssertEqual(items[f.source("src") + "/b"], .new)
        XCTAssertEqual(items[f.source("src") + "/"], .modified)
        XCTAssertEqual(result.directories.changed, items.values.filter { $0 == .modified }.count)
        XCTAssertEqual(result.directories.changed, 1, "src/ only: the folders above it are neither listed nor counted")
        XCTAssertEqual(progress.snapshot.bytes, 2, "bytes counted once: read or unchanged")
    }
}

/// A value shared between threads in tests.
final class Locked<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update(_ change: (inout Value) -> Void) { lock.withLock { change(&stored) } }
}
