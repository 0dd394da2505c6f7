import XCTest
import Foundation
import Synchronization
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// `--overwrite`, `--delete`, `--dry-run` and `--verify` on a target that already holds a
/// restore, changed in the ways each mode must notice (or, by design, not notice).
final class RestoreModeTests: XCTestCase {
    private var fixture: BackupFixture!
    private var source: [UInt8] = []
    private var backup: BackupResult!

    /// src/a/one.bin (several chunks), src/a/two.txt, src/a/three.bin, src/b/four.txt.
    override func setUpWithError() throws {
        fixture = try BackupFixture()
        source = fixture.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        try Disk.mkdir(at("a"))
        try Disk.mkdir(at("b"))
        try Disk.write(at("a/one.bin"), seededBytes(count: 100_000, seed: 11))
        try Disk.write(at("a/two.txt"), Array("two\n".utf8))
        try Disk.write(at("a/three.bin"), seededBytes(count: 50_000, seed: 13))
        try Disk.write(at("b/four.txt"), Array("four\n".utf8))
        for name in ["a/one.bin", "a/two.txt", "a/three.bin", "b/four.txt"] {
            try Disk.setMtime(at(name), seconds: 1_700_000_000, nanoseconds: 250)
        }
        backup = try fixture.backup([fixture.source("src")])
    }

    override func tearDown() { fixture = nil }

    private func at(_ relative: String) -> [UInt8] { PathBytes.join(source, Disk.bytes(relative)) }
    /// Where `relative` (below src) is restored.
    private func restored(_ relative: String) -> [UInt8] { fixture.restored(at(relative)) }

    private func restore(_ configure: (inout RestoreOptions) -> Void = { _ in }) throws -> RestoreResult {
        try fixture.restore(backup.snapshot.tree, configure)
    }

    /// Overwrites 10 bytes in the middle of `path`, keeping its size, then sets its mtime.
    private func scribble(_ path: [UInt8], mtime: Int) throws {
        var data = try Disk.read(path)
        for i in 40_000..<40_010 where i < data.count { data[i] ^= 0xff }
        if data.count < 40_000 { data[0] ^= 0xff }
        try Disk.write(path, data)
        try Disk.setMtime(path, seconds: mtime, nanoseconds: 250)
    }

    // if-changed: same size and time is trusted; same size, other time is compared chunk by chunk.
    // A file that cannot be removed to make way (immutable here; in a folder the user may
    // not write, likewise) is left as it was, and the message says why, not "File exists".
    func testAFileThatCannotBeReplacedIsLeftAndTheCauseNamed() throws {
        _ = try restore()
        let names = ["a/two.txt", "a/one.bin"]  // one chunk (written whole), several chunks
        for name in names { try Disk.write(restored(name), Array("OLD\n".utf8)) }
        func chattr(_ flag: String) throws -> Bool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
            process.arguments = [flag] + names.map { PathBytes.display(restored($0)) }
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chattr"), try chattr("+i") else {
            throw XCTSkip("no chattr +i here (needs root and a file system with the immutable flag)")
        }
        defer { _ = try? chattr("-i") }
        let warnings = Mutex<[String]>([])
        var options = RestoreOptions(target: fixture.targetDirectory.path)
        options.overwrite = .always
        let updated = Mutex<[String]>([])
        options.report = { event in if event.action == .updated { updated.withLock { $0.append(event.path) } } }
        let result = try Restorer(repository: fixture.repository, tree: backup.snapshot.tree, options: options,
                                  warn: { w in warnings.withLock { $0.append(w) } }).run()
        let told = warnings.withLock { $0 }
        let cause = String(cString: strerror(EPERM))
        XCTAssertTrue(told.contains { $0.contains("two.txt: cannot replace the file there: \(cause) (it is left as it was)") }, "\(told)")
        XCTAssertTrue(told.contains { $0.contains("one.bin: cannot create: \(cause)") }, "\(told)")
        XCTAssertFalse(told.contains { $0.contains("File exists") }, "\(told)")
        XCTAssertEqual(Set(result.unwritten.map { String($0.suffix(7)) }), ["two.txt"], "\(result.unwritten)")
        let listed = updated.withLock { $0 }
        XCTAssertFalse(listed.contains { $0.hasSuffix("two.txt") || $0.hasSuffix("one.bin") }, "-v lists only what was written: \(listed)")
        XCTAssertTrue(listed.contains { $0.hasSuffix("three.bin") }, "\(listed)")
        for name in names { XCTAssertEqual(try Disk.read(restored(name)), Array("OLD\n".utf8), name) }
    }

    func testIfChangedComparesChunksWhenTheTimeDiffers() throws {
        XCTAssertTrue(try restore().succeeded)
        try scribble(restored("a/one.bin"), mtime: 1_600_000_000)  // same size, other time: caught
        try scribble(restored("a/three.bin"), mtime: 1_700_000_000)  // same size and time: left alone, as restic does
        try Disk.setMtime(restored("a/two.txt"), seconds: 1_650_000_000)  // same content, other time: metadata only
        try Disk.write(restored("b/four.txt"), Array("changed size\n".utf8))
        let result = try restore()
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        XCTAssertEqual(try Disk.read(restored("a/one.bin")), try Disk.read(at("a/one.bin")))
        XCTAssertNotEqual(try Disk.read(restored("a/three.bin")), try Disk.read(at("a/three.bin")))
        XCTAssertEqual(try Disk.read(restored("b/four.txt")), Array("four\n".utf8))
        XCTAssertEqual(try Disk.lstat(restored("a/two.txt")).st_mtim.tv_sec, 1_700_000_000, "metadata set on an unchanged file")
        XCTAssertEqual(result.files, 2, "one.bin and four.txt rewritten")
        XCTAssertEqual(result.updated, 2)
        XCTAssertEqual(result.unchanged, 2, "two.txt and three.bin")
        XCTAssertEqual(result.skipped, 0)
    }

    // always rewrites everything, including a change that if-changed cannot see.
    func testAlwaysRewritesEverything() throws {
        XCTAssertTrue(try restore().succeeded)
        try scribble(restored("a/three.bin"), mtime: 1_700_000_000)
        let result = try restore { $0.overwrite = .always }
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        XCTAssertEqual(try Disk.read(restored("a/three.bin")), try Disk.read(at("a/three.bin")))
        XCTAssertEqual(result.updated, 4)
        XCTAssertEqual(result.unchanged, 0)
    }

    // never leaves every existing entry as it is and restores only what is missing.
    func testNeverKeepsExistingEntries() throws {
        XCTAssertTrue(try restore().succeeded)
        try scribble(restored("a/one.bin"), mtime: 1_600_000_000)
        XCTAssertEqual(PathBytes.withCString(restored("b/four.txt")) { unlink($0) }, 0)
        let result = try restore { $0.overwrite = .never }
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        XCTAssertNotEqual(try Disk.read(restored("a/one.bin")), try Disk.read(at("a/one.bin")))
        XCTAssertEqual(try Disk.lstat(restored("a/one.bin")).st_mtim.tv_sec, 1_600_000_000, "not even its metadata")
        XCTAssertEqual(try Disk.read(restored("b/four.txt")), Array("four\n".utf8))
        XCTAssertEqual(result.files, 1)
        XCTAssertEqual(result.skipped, 3)
    }

    // if-newer replaces only entries older than the snapshot's.
    func testIfNewerReplacesOnlyOlderEntries() throws {
        XCTAssertTrue(try restore().succeeded)
        try scribble(restored("a/one.bin"), mtime: 1_600_000_000)  // older: replaced
        try scribble(restored("a/three.bin"), mtime: 1_800_000_000)  // newer: kept
        let result = try restore { $0.overwrite = .ifNewer }
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        XCTAssertEqual(try Disk.read(restored("a/one.bin")), try Disk.read(at("a/one.bin")))
        XCTAssertNotEqual(try Disk.read(restored("a/three.bin")), try Disk.read(at("a/three.bin")))
        XCTAssertEqual(result.updated, 1)
        XCTAssertEqual(result.skipped, 3, "three.bin, and two.txt and four.txt with the same time")
    }

    // On a target that keeps whole seconds (exFAT) or 2-second steps (FAT), a restored time
    // loses its fraction: the snapshot's time must then be 2 s later to count as newer, or
    // every rerun of if-newer would rewrite the file.
    func testIfNewerAllowsForATargetThatKeepsWholeSeconds() {
        func at(_ seconds: Int, _ nanoseconds: Int = 0) -> timespec { timespec(tv_sec: seconds, tv_nsec: nanoseconds) }
        let stored = Timestamp(seconds: 1_000_001, nanoseconds: 500_000_000)
        XCTAssertFalse(Restorer.isNewer(stored, than: at(1_000_001)), "exFAT cut 01.5 to 01")
        XCTAssertFalse(Restorer.isNewer(stored, than: at(1_000_000)), "FAT cut 01.5 to 00")
        XCTAssertTrue(Restorer.isNewer(stored, than: at(999_999)))
        XCTAssertTrue(Restorer.isNewer(stored, than: at(1_000_001, 400_000_000)), "a target with fractions compares exactly")
        XCTAssertFalse(Restorer.isNewer(stored, than: at(1_000_001, 500_000_000)))
    }

    // A replaced file is a new file: another hard link to the old one, outside the target, keeps its content.
    func testReplacingNeverWritesThroughAHardLink() throws {
        XCTAssertTrue(try restore().succeeded)
        let outside = fixture.sourcePath(Disk.bytes("outside.bin"))
        try Disk.write(outside, Array("do not touch\n".utf8))
        XCTAssertEqual(PathBytes.withCString(restored("a/two.txt")) { unlink($0) }, 0)
        try Disk.link(outside, restored("a/two.txt"))
        let result = try restore()
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        XCTAssertEqual(try Disk.read(restored("a/two.txt")), Array("two\n".utf8))
        XCTAssertEqual(try Disk.read(outside), Array("do not touch\n".utf8))
        XCTAssertEqual(try Disk.lstat(outside).st_nlink, 1)
    }

    // --delete removes extra entries below the restored path only: not beside it, not what the excludes cover.
    func testDeleteRemovesOnlyBelowRestoredPaths() throws {
        XCTAssertTrue(try restore().succeeded)
        let beside = fixture.restored(fixture.sourcePath(Disk.bytes("beside.txt")))
        try Disk.write(beside, [1])
        let top = PathBytes.join(Disk.bytes(fixture.targetDirectory.path), Disk.bytes("top.txt"))
        try Disk.write(top, [2])
        try Disk.write(restored("a/extra.txt"), [3])
        try Disk.write(restored("a/kept.log"), [4])
        try Disk.mkdir(restored("b/extra-dir"))
        try Disk.write(restored("b/extra-dir/inner"), [5])
        try Disk.symlink(Disk.bytes("/"), at: restored("b/extra-link"))
        let result = try restore {
            $0.delete = true
            $0.exclude = PatternRules(patterns: ["*.log"])
            $0.deleteWithin = [PathBytes.display(self.source)]
        }
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        XCTAssertFalse(Disk.exists(restored("a/extra.txt")))
        XCTAssertFalse(Disk.exists(restored("b/extra-dir")))
        XCTAssertFalse(Disk.exists(restored("b/extra-link")))
        XCTAssertTrue(Disk.exists(restored("a/kept.log")), "excluded: not deleted")
        XCTAssertTrue(Disk.exists(beside), "beside the backed-up path: not deleted")
        XCTAssertTrue(Disk.exists(top), "above the backed-up path: not deleted")
        XCTAssertEqual(result.deleted, 3)
        XCTAssertEqual(result.unchanged, 4)
    }

    // A dry run writes nothing, not even the target, and counts what it would do; with --delete it only lists.
    func testDryRunWritesNothing() throws {
        let fresh = fixture.targetDirectory.appending("fresh")
        let events = Mutex<[RestoreEvent.Action]>([])
        let first = try restore {
            $0.target = fresh
            $0.dryRun = true
            $0.report = { event in events.withLock { $0.append(event.action) } }
        }
        XCTAssertTrue(first.succeeded)
        XCTAssertFalse(Disk.exists(Disk.bytes(fresh)))
        XCTAssertEqual(first.files, 4)
        XCTAssertEqual(events.withLock { $0.filter { $0 == .restored }.count }, 4 + 2 + PathBytes.components(source).count)

        XCTAssertTrue(try restore().succeeded)
        try scribble(restored("a/one.bin"), mtime: 1_600_000_000)
        try Disk.write(restored("a/extra.txt"), [3])
        let before = try Disk.listing(Disk.bytes(fixture.targetDirectory.path))
        let dry = try restore {
            $0.dryRun = true
            $0.delete = true
        }
        XCTAssertTrue(dry.succeeded, "\(dry.errors)")
        assertSameListing(try Disk.listing(Disk.bytes(fixture.targetDirectory.path)), before)
        XCTAssertEqual(dry.updated, 1)
        XCTAssertEqual(dry.unchanged, 3)
        XCTAssertEqual(dry.deleted, 1)
    }

    // --verify reads the files back: one damaged after it was written is reported.
    func testVerifyCatchesAFileDamagedAfterWriting() throws {
        let target = restored("a/one.bin")
        let clean = try restore { $0.verify = true }
        XCTAssertTrue(clean.succeeded)
        XCTAssertEqual(clean.verified, 4)

        let again = try restore {
            $0.verify = true
            $0.overwrite = .always
            $0.beforeVerify = { try? Disk.write(target, seededBytes(count: 100_000, seed: 99)) }
        }
        XCTAssertFalse(again.succeeded)
        XCTAssertEqual(again.verifyFailures.count, 1, "\(again.verifyFailures)")
        XCTAssertTrue(again.verifyFailures.first?.contains("one.bin: verify: differs") == true, "\(again.verifyFailures)")
    }

    // The comparison reads blob by blob with the repository's keyed IDs.
    func testCompareContentFindsTheDifferingOffset() throws {
        XCTAssertTrue(try restore().succeeded)
        let entries = try fixture.snapshotEntries(backup.snapshot.tree)
        let node = try XCTUnwrap(entries[at("a/one.bin")])
        XCTAssertGreaterThan(node.content.count, 1)
        let repository = try Repository.open(backend: LocalBackend(root: fixture.repositoryDirectory.path), password: testPassword)
        try repository.loadIndex()
        let hasher = BlobIDHasher(keys: repository.keys)
        XCTAssertNil(Restorer.compareContent(path: restored("a/one.bin"), node: node, repository: repository, hasher: hasher))
        try scribble(restored("a/one.bin"), mtime: 1_700_000_000)
        let reason = Restorer.compareContent(path: restored("a/one.bin"), node: node, repository: repository, hasher: hasher)
        XCTAssertTrue(reason?.hasPrefix("differs from the snapshot at offset") == true, "\(reason ?? "nil")")
        try Disk.write(restored("a/one.bin"), [1, 2, 3])
        XCTAssertNotNil(Restorer.compareContent(path: restored("a/one.bin"), node: node, repository: repository, hasher: hasher))
    }

    // A target that is a symlink to a folder is followed (as restic does); one to a file is refused.
    func testTargetThatIsASymlinkToAFolderIsFollowed() throws {
        let real = try TemporaryDirectory(prefix: "snap-engine-real-target")
        defer { real.remove() }
        let link = fixture.targetDirectory.path + "/link"
        try Disk.symlink(Disk.bytes(real.path), at: Disk.bytes(link))
        let result = try restore { $0.target = link }
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        XCTAssertEqual(try Disk.read(Disk.bytes(real.path) + at("a/one.bin")), try Disk.read(at("a/one.bin")))
        XCTAssertEqual(try Disk.lstat(Disk.bytes(link)).st_mode & S_IFMT, S_IFLNK, "the link stays")

        let file = fixture.targetDirectory.path + "/file"
        try Disk.write(Disk.bytes(file), [1])
        try Disk.symlink(Disk.bytes(file), at: Disk.bytes(fixture.targetDirectory.path + "/to-file"))
        XCTAssertThrowsError(try restore { $0.target = self.fixture.targetDirectory.path + "/to-file" })
    }

    // A symlink in the target where the snapshot has a folder is replaced, never followed: nothing is written outside.
    func testSymlinkInTargetNeverLeadsOutside() throws {
        let outside = try TemporaryDirectory(prefix: "snap-engine-outside")
        defer { outside.remove() }
        let firstComponent = try XCTUnwrap(PathBytes.components(source).first)
        let link = PathBytes.join(Disk.bytes(fixture.targetDirectory.path), firstComponent)
        try Disk.symlink(Disk.bytes(outside.path), at: link)

        let skipped = try restore { $0.overwrite = .never }
        XCTAssertTrue(skipped.succeeded, "\(skipped.errors)")
        XCTAssertEqual(try Disk.names(Disk.bytes(outside.path)), [], "never: nothing written through the link")
        XCTAssertEqual(try Disk.lstat(link).st_mode & S_IFMT, S_IFLNK)
        XCTAssertEqual(skipped.skipped, 1)

        let result = try restore()
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        XCTAssertEqual(try Disk.names(Disk.bytes(outside.path)), [], "nothing written through the link")
        XCTAssertEqual(try Disk.lstat(link).st_mode & S_IFMT, S_IFDIR)
        XCTAssertEqual(try Disk.read(restored("a/one.bin")), try Disk.read(at("a/one.bin")))

        // The same deeper down, and for a file's name.
        try Disk.write(PathBytes.join(Disk.bytes(outside.path), Disk.bytes("victim")), Array("outside\n".utf8))
        try FileSystemCleanup.remove(restored("a"))
        try Disk.symlink(Disk.bytes(outside.path), at: restored("a"))
        XCTAssertEqual(PathBytes.withCString(restored("b/four.txt")) { unlink($0) }, 0)
        try Disk.symlink(PathBytes.join(Disk.bytes(outside.path), Disk.bytes("victim")), at: restored("b/four.txt"))
        let deeper = try restore { $0.overwrite = .always }
        XCTAssertTrue(deeper.succeeded, "\(deeper.errors)")
        XCTAssertEqual(try Disk.names(Disk.bytes(outside.path)), [Disk.bytes("victim")])
        XCTAssertEqual(try Disk.read(PathBytes.join(Disk.bytes(outside.path), Disk.bytes("victim"))), Array("outside\n".utf8))
        XCTAssertEqual(try Disk.read(restored("b/four.txt")), Array("four\n".utf8))
        XCTAssertEqual(try Disk.lstat(restored("a")).st_mode & S_IFMT, S_IFDIR)
    }

    // A non-empty folder where the snapshot has a file is an error without --delete, replaced with it.
    func testFolderInTheWayOfAFile() throws {
        XCTAssertTrue(try restore().succeeded)
        XCTAssertEqual(PathBytes.withCString(restored("a/two.txt")) { unlink($0) }, 0)
        try Disk.mkdir(restored("a/two.txt"))
        try Disk.write(restored("a/two.txt/inner"), [1])
        let refused = try restore()
        XCTAssertFalse(refused.succeeded)
        XCTAssertTrue(refused.errors.first?.contains("not empty is in the way") == true, "\(refused.errors)")
        let replaced = try restore { $0.delete = true }
        XCTAssertTrue(replaced.succeeded, "\(replaced.errors)")
        XCTAssertEqual(try Disk.read(restored("a/two.txt")), Array("two\n".utf8))
    }
}

/// Removing test folders with `FileSystem.removeAll` (which never follows symlinks).
enum FileSystemCleanup {
    static func remove(_ path: [UInt8]) throws {
        if let code = FileSystem.removeAll(path, root: nil) { throw DiskError(call: "removeAll", path: path, code: code) }
    }
}
