import XCTest
import SnapChunker
import SnapCore
import SnapEngine
import SnapRepository
import SnapTestSupport

/// A large file read in segments on several threads is stored as exactly the chunks of one
/// sequential pass, and restores byte for byte.
final class BackupSegmentedFileTests: XCTestCase {
    /// Random bytes, a run of zeros (maximum chunks that never meet a guessed chain out of
    /// step with them), then random bytes again.
    private static let content: [UInt8] = seededBytes(count: 1_500_000, seed: 0x5e91)
        + [UInt8](repeating: 0, count: 700_000) + seededBytes(count: 900_001, seed: 0x5e92)

    private func backup(_ f: BackupFixture, segmentation: FileSegmentation) throws -> BackupResult {
        var options = BackupOptions(paths: [f.source("src")], hostname: "test-host", username: "tester")
        options.workers = 2
        options.segmentation = segmentation
        options.force = true  // read the file again each time, never take it from the parent
        return try Archiver(repository: f.repository, options: options).run()
    }

    private func content(of name: String, in f: BackupFixture, _ backup: BackupResult) throws -> [BlobID] {
        let path = PathBytes.join(f.sourcePath(Disk.bytes("src")), Disk.bytes(name))
        return try XCTUnwrap(try f.snapshotEntries(backup.snapshot.tree)[path]).content
    }

    private func sourceTree(_ f: BackupFixture, _ backup: BackupResult) throws -> BlobID {
        try XCTUnwrap(try f.snapshotEntries(backup.snapshot.tree)[f.sourcePath(Disk.bytes("src"))]?.subtree)
    }

    func testSegmentsGiveTheSequentialChunks() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        try Disk.write(PathBytes.join(source, Disk.bytes("large")), Self.content)
        try Disk.write(PathBytes.join(source, Disk.bytes("small")), Array("beside it\n".utf8))

        // What one pass of the chunker gives, and the blob IDs of those chunks.
        let ids = BlobIDHasher(keys: f.repository.keys)
        var offset = 0
        let expected = f.repository.chunker.chunkLengths(of: Self.content).map { length in
            defer { offset += length }
            return ids.id(of: Array(Self.content[offset..<(offset + length)]))
        }
        let sequential = try backup(f, segmentation: FileSegmentation(threshold: .max))
        XCTAssertEqual(try content(of: "large", in: f, sequential), expected)

        let p = engineInitOptions().chunker
        // Segments below the minimum chunk, at the maximum, just past it, and uneven; one to four threads.
        for (size, threads) in [(5000, 3), (p.maxSize, 2), (p.maxSize + 1, 4), (100_003, 1), (1 << 20, 2)] {
            let result = try backup(f, segmentation: FileSegmentation(threshold: 64 << 10, segmentBytes: size, threads: threads))
            XCTAssertEqual(result.warnings, [])
            XCTAssertEqual(try content(of: "large", in: f, result), expected, "segments of \(size) bytes on \(threads) threads")
            // The folders above src (/tmp among them) change while the tests run: compare src's tree.
            XCTAssertEqual(try sourceTree(f, result), try sourceTree(f, sequential), "the same tree, byte for byte")
        }
    }

    func testSegmentedFileRestores() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        let large = PathBytes.join(source, Disk.bytes("large"))
        try Disk.write(large, Self.content)
        let result = try backup(f, segmentation: FileSegmentation(threshold: 64 << 10, segmentBytes: 70_001, threads: 3))
        XCTAssertEqual(result.warnings, [])
        XCTAssertEqual(result.snapshot.summary?.bytesRead, UInt64(Self.content.count))
        let restore = try f.restore(result.snapshot.tree)
        XCTAssertTrue(restore.succeeded, "errors: \(restore.errors)")
        XCTAssertEqual(try Disk.read(f.restored(large)), Self.content)
    }
}
