import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

final class SnapshotStatisticsTests: XCTestCase {
    // Two snapshots of the same three files, one of them stored twice under other names.
    func testModesCountWhatTheyName() throws {
        let source = try TemporaryDirectory(prefix: "snap-stats")
        defer { source.remove() }
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        try PruneTesting.writeFiles(source.appending("d"), count: 2, seed: 50, size: 30_000)
        try FileManager.default.copyItem(atPath: source.appending("d/file-0.bin"), toPath: source.appending("copy.bin"))
        let sizes = try ["d/file-0.bin", "d/file-1.bin", "copy.bin"].map {
            try XCTUnwrap(FileManager.default.attributesOfItem(atPath: source.appending($0))[.size] as? UInt64)
        }
        let trees = try ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"].map {
            try SnapshotStore.load(try PruneTesting.backup(repository, source.path, time: $0), from: repository).tree
        }
        try repository.loadIndex()
        func run(_ mode: StatsMode) throws -> SnapshotStatistics {
            let collector = StatisticsCollector(repository: repository, mode: mode)
            for tree in trees { try collector.add(tree) }
            return collector.result
        }
        let restore = try run(.restoreSize)
        XCTAssertEqual(restore.snapshotsCount, 2)
        XCTAssertEqual(restore.totalSize, 2 * sizes.reduce(0, +))
        let depth = source.path.split(separator: "/").count
        XCTAssertEqual(restore.totalFileCount, 2 * (depth + 1 + 3), "every entry: the folders to the source, d, three files")
        let byContents = try run(.filesByContents)
        XCTAssertEqual(byContents.totalFileCount, 2, "the copy has the same content")
        XCTAssertEqual(byContents.totalSize, sizes[0] + sizes[1])
        let raw = try run(.rawData)
        XCTAssertEqual(raw.totalFileCount, 3)
        XCTAssertGreaterThan(try XCTUnwrap(raw.totalBlobCount), 2)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(raw.totalUncompressedSize), sizes[0] + sizes[1])
        let usage = try StatisticsCollector.usage(of: repository)
        XCTAssertEqual(usage.rawDataBytes, sizes[0] + sizes[1], "each content stored once")
        XCTAssertEqual(usage.packBytes, UInt64(try memory.list(.data).reduce(0) { $0 + $1.size }))
        // The two snapshots use every stored blob (the same trees, each content once).
        XCTAssertEqual(raw.totalBlobCount, usage.blobs)
        XCTAssertEqual(raw.totalUncompressedSize, usage.rawBlobBytes)

        // The same figures when the index is a mapped table (the used set then keeps a bit a blob).
        let tables = try TemporaryDirectory(prefix: "snap-stats-table")
        defer { tables.remove() }
        let mapped = try Repository.open(backend: memory, password: testPassword, indexCacheRoot: tables.path)
        var policy = IndexCachePolicy()
        policy.minimumTableBlobs = 1
        try mapped.loadIndex(policy: policy)
        XCTAssertTrue(mapped.index.isMapped)
        let collector = StatisticsCollector(repository: mapped, mode: .rawData)
        for tree in trees { try collector.add(tree) }
        let rawMapped = collector.result
        XCTAssertEqual(rawMapped.totalBlobCount, raw.totalBlobCount)
        XCTAssertEqual(rawMapped.totalSize, raw.totalSize)
        XCTAssertEqual(rawMapped.totalUncompressedSize, raw.totalUncompressedSize)
        XCTAssertEqual(rawMapped.totalFileCount, raw.totalFileCount)
    }
}
