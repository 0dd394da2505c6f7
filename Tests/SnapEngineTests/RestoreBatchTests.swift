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
}
