import XCTest
@testable import SnapEngine
import SnapCore
import SnapRepository
import SnapStorage
import SnapTestSupport

/// Restores in batches: memory bounded by `RestoreOptions.batchSize` entries, with includes too.
final class RestoreBatchTests: XCTestCase {
    // Folders with a matching file, folders entered for the include that hold none (to be
    // taken back), nested both ways.
    private func buildTree(at root: [UInt8]) throws {
        try Disk.mkdir(root)
        for i in 0..<6 {
            let group = PathBytes.join(root, Disk.bytes("g\(i)"))
            try Disk.mkdir(group)
            for (j, name) in ["a", "b", "c"].enumerated() {
                let folder = PathBytes.join(group, Disk.bytes(name))
                try Disk.mkdir(folder)
                try Disk.write(PathBytes.join(folder, Disk.bytes("data.bin")), seededBytes(count: 3_000, seed: UInt64(10 * i + j)))
                if (i + j) % 2 == 0 {
                    try Disk.write(PathBytes.join(folder, Disk.bytes("note.txt")), Array("note \(i) \(j)\n".utf8))
                }
                let deep = PathBytes.join(folder, Disk.bytes("deep"))
                try Disk.mkdir(deep)
                try Disk.write(PathBytes.join(deep, Disk.bytes(i == 3 ? "last.txt" : "last.bin")), Array("deep \(i) \(j)\n".utf8))
            }
        }
    }

    private func restore(_ f: BackupFixture, _ tree: BlobID, into target: String, batchSize: Int) throws -> (RestoreResult, Restorer) {
        let reopened = try Repository.open(backend: LocalBackend(root: f.repositoryDirectory.path), password: testPassword)
        try reopened.loadIndex()
        var options = RestoreOptions(target: target)
        options.include = PatternRules(patterns: ["*.txt"])
        options.workers = 2
        options.batchSize = batchSize
        let restorer = Restorer(repository: reopened, tree: tree, options: options)
        return (try restorer.run(), restorer)
    }

    // With includes, a restore in batches of 2 entries restores exactly what one batch does:
    // the matching files and the folders leading to them, with their metadata, and no folder
    // that was entered only to look for matches. No batch grows past its size and the
    // folders above its file.
    func testIncludesAreRestoredInBoundedBatches() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try buildTree(at: source)
        let backup = try f.backup([f.source("src")])
        let tree = try XCTUnwrap(backup.snapshot.tree)

        let whole = try TemporaryDirectory(prefix: "snap-engine-whole")
        defer { whole.remove() }
        let (one, oneRestorer) = try restore(f, tree, into: whole.path, batchSize: 16_384)
        let (many, manyRestorer) = try restore(f, tree, into: f.targetDirectory.path, batchSize: 2)
        XCTAssertTrue(one.succeeded && many.succeeded, "\(one.errors) \(many.errors)")
        XCTAssertEqual(many.files, one.files)

        var expected = try Disk.listing(source)
        let kept = expected.keys.filter { PathBytes.display($0).hasSuffix(".txt") }
        XCTAssertEqual(kept.count, 12, "9 notes and 3 deep files")
        expected = expected.filter { path, _ in
            kept.contains { $0 == path || $0.starts(with: path + [PathBytes.slash]) }
        }
        assertSameListing(try Disk.listing(Disk.bytes(whole.path) + source), expected, "one batch")
        assertSameListing(try Disk.listing(f.restored(source)), expected, "batches of 2")

        XCTAssertGreaterThan(oneRestorer.largestBatch, 20, "one batch holds the whole selection")
        // A batch goes right after a file once it holds 2 entries, so it holds at most the
        // file, one earlier entry and the folders opened since: those of the source path and
        // three below it (g*/*/deep).
        XCTAssertLessThanOrEqual(manyRestorer.largestBatch, PathBytes.components(source).count + 3 + 2)
    }

    // Folders get their metadata as the walk leaves them, batch by batch: a restore in batches
    // of 2 gives every folder (read-only ones and those with hard links into them too) the
    // mode and time of the source, while holding only the folders above the walk and those
    // closed since the last batch, not all 50.
    func testFoldersAreFinishedAsTheWalkLeavesThem() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        var folders: [[UInt8]] = []
        for i in 0..<10 {
            let group = PathBytes.join(source, Disk.bytes("g\(i)"))
            try Disk.mkdir(group)
            folders.append(group)
            for j in 0..<4 {
                let folder = PathBytes.join(group, Disk.bytes("f\(j)"))
                try Disk.mkdir(folder)
                folders.append(folder)
                try Disk.write(PathBytes.join(folder, Disk.bytes("a.txt")), Array("\(i) \(j)\n".utf8))
                try Disk.write(PathBytes.join(folder, Disk.bytes("b.bin")), seededBytes(count: 2_000, seed: UInt64(10 * i + j)))
            }
        }
        // A hard link from a late folder to a file in an early one, which is read-only.
        try Disk.link(PathBytes.join(source, Disk.bytes("g0/f0/a.txt")), PathBytes.join(source, Disk.bytes("g9/f3/link.txt")))
        for (n, folder) in folders.enumerated().reversed() {
            try Disk.setMtime(folder, seconds: 1_600_000_000 + 3_600 * n, nanoseconds: 123_000 * n)
        }
        try Disk.chmod(PathBytes.join(source, Disk.bytes("g0/f0")), 0o555)
        try Disk.chmod(PathBytes.join(source, Disk.bytes("g0")), 0o750)
        defer { try? Disk.chmod(PathBytes.join(source, Disk.bytes("g0/f0")), 0o755) }
        let expected = try Disk.listing(source)
        let backup = try f.backup([f.source("src")])
        let tree = try XCTUnwrap(backup.snapshot.tree)

        let reopened = try Repository.open(backend: LocalBackend(root: f.repositoryDirectory.path), password: testPassword)
        try reopened.loadIndex()
        var options = RestoreOptions(target: f.targetDirectory.path)
        options.workers = 2
        options.batchSize = 2
        let restorer = Restorer(repository: reopened, tree: tree, options: options)
        let result = try restorer.run()
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        defer { try? Disk.chmod(f.restored(PathBytes.join(source, Disk.bytes("g0/f0"))), 0o755) }
        assertSameListing(try Disk.listing(f.restored(source)), expected, "batches of 2")
        XCTAssertEqual(try Disk.lstat(f.restored(PathBytes.join(source, Disk.bytes("g9/f3/link.txt")))).st_ino,
                       try Disk.lstat(f.restored(PathBytes.join(source, Disk.bytes("g0/f0/a.txt")))).st_ino)
        // The folders of the source path and src/g*/f*, plus those closed within one batch.
        XCTAssertLessThanOrEqual(restorer.mostFoldersHeld, PathBytes.components(source).count + 2 + 3)
        XCTAssertGreaterThan(folders.count, 3 * restorer.mostFoldersHeld)
    }

    /// 900 files of 3,000 random bytes in 30 folders, backed up into 1 MiB packs; restores
    /// of it count their reads.
    private final class ManyPacks {
        let fixture: BackupFixture
        let tree: BlobID

        init() throws {
            fixture = try BackupFixture(packSize: 1 << 20)
            for i in 0..<900 {
                let folder = fixture.source("d\(i / 30)")
                if i % 30 == 0 { try Disk.mkdir(Disk.bytes(folder)) }
                try Disk.write(Disk.bytes(folder + "/f\(i)"), seededBytes(count: 3_000, seed: UInt64(i)))
            }
            tree = try XCTUnwrap(try fixture.backup([fixture.sourceDirectory.path]).snapshot.tree)
        }

        /// Restores everything in batches of `batchSize` entries, with `$TMPDIR` set to
        /// `temporaryFolder` while it runs; the reads it made, and its largest batch.
        func restore(batchSize: Int, temporaryFolder: String? = nil) throws -> (reads: Int, largestBatch: Int) {
            let target = try TemporaryDirectory(prefix: "snap-engine-dst")
            defer { target.remove() }
            let counting = CountingBackend(LocalBackend(root: fixture.repositoryDirectory.path))
            let reopened = try Repository.open(backend: counting, password: testPassword)
            try reopened.loadIndex()
            let before = counting.counts[.read]
            var options = RestoreOptions(target: target.path)
            options.workers = 2
            options.batchSize = batchSize
            let restorer = Restorer(repository: reopened, tree: tree, options: options)
            let saved = getenv("TMPDIR").map { String(cString: $0) }
            if let temporaryFolder { setenv("TMPDIR", temporaryFolder, 1) }
            let run = Result { try restorer.run() }
            if let saved { setenv("TMPDIR", saved, 1) } else { unsetenv("TMPDIR") }
            let result = try run.get()
            XCTAssertTrue(result.succeeded, "\(result.errors)")
            let source = fixture.sourceDirectory.path
            XCTAssertEqual(try Disk.listing(Disk.bytes(target.path + source)), try Disk.listing(Disk.bytes(source)))
            return (counting.counts[.read] - before, restorer.largestBatch)
        }
    }

    // The packs a batch's last files use are read on and kept, so later batches take their
    // blobs of them from the spool: restored in batches of 100 files, 900 files in 1 MiB
    // packs are read with as many requests as in one batch (without the spool, the packs
    // open at each boundary were read by both batches: 21 reads, not 4).
    func testLaterBatchesTakeTheLastPacksFromTheSpool() throws {
        let packs = try ManyPacks()
        XCTAssertGreaterThanOrEqual(try packs.fixture.backend.list(.data).count, 4, "several packs")
        let whole = try packs.restore(batchSize: 16_384)
        let batched = try packs.restore(batchSize: 100)
        XCTAssertGreaterThan(whole.largestBatch, 900)
        XCTAssertLessThanOrEqual(batched.largestBatch, 100 + 1, "batches of 100 files (and a folder)")
        XCTAssertEqual(batched.reads, whole.reads, "each pack read by one request")
    }

    // The spool only saves requests: where no temporary file can be made, every batch reads
    // its packs from the repository, and the restore is the same.
    func testAnUnwritableTemporaryFolderOnlyCostsRequests() throws {
        let packs = try ManyPacks()
        let whole = try packs.restore(batchSize: 16_384)
        let batched = try packs.restore(batchSize: 100, temporaryFolder: packs.fixture.source("no-such-folder"))
        XCTAssertGreaterThan(batched.reads, whole.reads + 1, "packs read again by later batches")
    }
}
