import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

final class BackupStreamTests: XCTestCase {
    private func streamBackup(_ f: BackupFixture, _ bytes: [UInt8], path: String, finished: @escaping @Sendable () throws -> Void = {}) throws -> BackupResult {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let writeEnd = fds[1]
        let writer = Thread {
            bytes.withUnsafeBytes { buffer in
                var done = 0
                while done < buffer.count {
                    let n = write(writeEnd, buffer.baseAddress! + done, buffer.count - done)
                    if n <= 0 { break }
                    done += n
                }
            }
            close(writeEnd)
        }
        writer.start()
        defer { close(fds[0]) }
        var options = BackupOptions(paths: [[UInt8]](), hostname: "test-host", username: "tester")
        options.stream = StreamSource(path: Array(path.utf8), fd: fds[0], finished: finished)
        options.workers = 2
        return try Archiver(repository: f.repository, options: options).run()
    }

    // A stream becomes one file at the given path, with its bytes unchanged, through the same chunker as files.
    func testStreamIsStoredAsOneFile() throws {
        let f = try BackupFixture()
        let content = seededBytes(count: 3 << 20, seed: 11)
        let result = try streamBackup(f, content, path: "db/dump.sql")
        XCTAssertEqual(result.snapshot.paths, ["/db/dump.sql"])
        let entries = try f.snapshotEntries(result.snapshot.tree)
        let node = try XCTUnwrap(entries[Array("/db/dump.sql".utf8)])
        XCTAssertEqual(node.type, .file)
        XCTAssertEqual(node.size, UInt64(content.count))
        XCTAssertEqual(node.mode, 0o644)
        XCTAssertGreaterThan(node.content.count, 10, "chunked with the repository's chunker")
        XCTAssertEqual(entries[Array("/db".utf8)]?.type, .directory)
        var restored: [UInt8] = []
        for id in node.content { restored += try f.repository.loadBlob(id) }
        XCTAssertEqual(restored, content)
        XCTAssertEqual(result.snapshot.summary?.filesNew, 1)
    }

    // A name given with a leading slash, doubled or trailing slashes is stored under its
    // components, and the snapshot's path is the one its tree holds (so `--path` finds it).
    func testStreamPathIsCleaned() throws {
        let f = try BackupFixture()
        for (given, clean) in [("/abs/x.sql", "/abs/x.sql"), ("a//b/", "/a/b")] {
            let result = try streamBackup(f, [1, 2, 3], path: given)
            XCTAssertEqual(result.snapshot.paths, [clean], given)
            XCTAssertEqual(try f.snapshotEntries(result.snapshot.tree)[Array(clean.utf8)]?.type, .file, given)
        }
    }

    // A stream whose producer fails leaves no snapshot (the data uploaded is reused later).
    func testFailedStreamLeavesNoSnapshot() throws {
        let f = try BackupFixture()
        struct Failed: Error {}
        XCTAssertThrowsError(try streamBackup(f, [1, 2, 3], path: "stdin", finished: { throw Failed() })) { error in
            XCTAssertTrue(error is Failed, "\(error)")
        }
        XCTAssertEqual(try SnapshotStore.all(in: f.repository).count, 0)
        XCTAssertEqual(try f.backend.list(.locks).count, 0, "the lock is released")
    }

    // Names with . or .. components are refused before anything is read.
    func testUnusableStreamNamesAreRefused() throws {
        let f = try BackupFixture()
        XCTAssertThrowsError(try streamBackup(f, [1], path: "a/../b"))
        XCTAssertThrowsError(try streamBackup(f, [1], path: "/"))
    }
}
