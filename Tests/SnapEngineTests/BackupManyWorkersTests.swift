import Dispatch
import Foundation
import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapTestSupport

/// A backup with hundreds of worker threads finishes, and stores what a backup with two
/// does. With its pools on libdispatch's threads (at most 255 on Linux) a backup with about
/// 119 workers or more hung: every pool thread waited for work that no thread was left to do.
final class BackupManyWorkersTests: XCTestCase {
    /// 50 files that go through the upload queue, and one read in segments.
    private func buildSource(_ f: BackupFixture) throws -> [UInt8] {
        let source = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        for i in 0..<50 {
            try Disk.write(PathBytes.join(source, Disk.bytes("f\(i)")), seededBytes(count: 20_000, seed: UInt64(i)))
        }
        try Disk.write(PathBytes.join(source, Disk.bytes("large")), seededBytes(count: 600_000, seed: 99))
        return source
    }

    private func options(_ f: BackupFixture, workers: Int, readers: Int) -> BackupOptions {
        var options = BackupOptions(paths: [f.source("src")], hostname: "test-host", username: "tester")
        options.workers = workers
        options.readers = readers
        options.segmentation = FileSegmentation(threshold: 128 << 10, segmentBytes: 64 << 10, threads: 8)
        options.force = true  // read every file each time, never take it from the parent
        return options
    }

    /// Runs the backup on a thread of its own and waits at most `seconds` for it, so that a
    /// hang fails the test instead of stopping the test run.
    private func backup(_ repository: Repository, _ options: BackupOptions, within seconds: Double = 60) throws -> BackupResult {
        let outcome = Pending<BackupResult>()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            outcome.fulfil(Result { try Archiver(repository: repository, options: options).run() })
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .success else {
            throw Hung(description: "the backup with \(options.workers) workers and \(options.readers) readers did not finish in \(Int(seconds)) s")
        }
        return try outcome.wait()
    }

    private struct Hung: Error, CustomStringConvertible {
        let description: String
    }

    func testThreeHundredWorkersFinishWithTheSameTree() throws {
        let f = try BackupFixture()
        let source = try buildSource(f)
        let many = try backup(f.repository, options(f, workers: 300, readers: 301))
        XCTAssertEqual(many.state, .saved)
        XCTAssertEqual(many.snapshot.summary?.filesNew, 51)
        let few = try backup(f.repository, options(f, workers: 2, readers: 3))
        let tree = { (result: BackupResult) in try XCTUnwrap(try f.snapshotEntries(result.snapshot.tree)[source]?.subtree) }
        XCTAssertEqual(try tree(many), try tree(few), "the worker count changes nothing stored")
    }

    // More readers than a backup runs are lowered to `maximumReaders`: ten million start
    // no more threads than that.
    func testReadersBeyondTheMaximumAreCapped() throws {
        let f = try BackupFixture()
        _ = try buildSource(f)
        let result = try backup(f.repository, options(f, workers: 2, readers: 10_000_000))
        XCTAssertEqual(result.state, .saved)
        XCTAssertEqual(result.snapshot.summary?.filesNew, 51)
    }
}
