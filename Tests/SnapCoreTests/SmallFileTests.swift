import Foundation
import SnapCore
import XCTest

/// Reading a small file a user named: regular files, pipes as `<(command)` gives, and what
/// must fail at once (a folder, a fifo no one writes to) or after a bounded wait.
final class SmallFileTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "small-file-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    private func failure(_ path: String, limit: Int = 1 << 20, wait: Double = 10) -> SmallFile.Failure? {
        do {
            _ = try SmallFile.read(path, limit: limit, waitSeconds: wait)
            return nil
        } catch {
            return error
        }
    }

    func testRegularFile() throws {
        try "secret\n".write(toFile: "\(folder)/f", atomically: false, encoding: .utf8)
        XCTAssertEqual(try SmallFile.read("\(folder)/f", limit: 100), Array("secret\n".utf8))
        XCTAssertEqual(failure("\(folder)/f", limit: 3)?.reason, "is 7 bytes, more than such a file holds")
    }

    func testMissingFileAndFolder() {
        XCTAssertEqual(failure("\(folder)/none")?.reason, "cannot be opened: No such file or directory")
        XCTAssertEqual(failure("\(folder)/none")?.cause, "No such file or directory")
        XCTAssertEqual(failure(folder)?.reason, "is a folder")
        XCTAssertEqual(failure(folder)?.cause, "it is a folder")
    }

    // A pipe is read to its end, as the shell's <(echo pw) gives it.
    func testPipeIsReadToItsEnd() throws {
        let pipe = Pipe()
        let path = "/proc/self/fd/\(pipe.fileHandleForReading.fileDescriptor)"
        pipe.fileHandleForWriting.write(Data("from a pipe\n".utf8))
        try pipe.fileHandleForWriting.close()
        XCTAssertEqual(try SmallFile.read(path, limit: 100), Array("from a pipe\n".utf8))
    }

    // A fifo no one opens to write, or whose writer never writes, fails after the wait
    // rather than hanging.
    func testFifosDoNotHang() throws {
        XCTAssertEqual(mkfifo("\(folder)/fifo", 0o600), 0)
        XCTAssertEqual(failure("\(folder)/fifo", wait: 0.2)?.reason, "gave no data for 0 s (a fifo no one writes to?)")
        let writer = open("\(folder)/fifo", O_RDWR)  // holds a writer's end open, writing nothing
        XCTAssertGreaterThanOrEqual(writer, 0)
        defer { close(writer) }
        XCTAssertEqual(failure("\(folder)/fifo", wait: 0.2)?.reason, "gave no data for 0 s (a pipe or fifo no one writes to?)")
    }

    // A fifo whose writer comes a moment after the reader (producer > fifo &) is read
    // (campaign 25 N1); a pipe whose writer left without writing is empty at once.
    func testALateWriterIsWaitedFor() throws {
        XCTAssertEqual(mkfifo("\(folder)/late", 0o600), 0)
        let path = "\(folder)/late"
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            let fd = open(path, O_WRONLY)
            _ = write(fd, "late pw\n", 8)
            close(fd)
        }
        XCTAssertEqual(try SmallFile.read(path, limit: 100, waitSeconds: 5), Array("late pw\n".utf8))
        let pipe = Pipe()
        try pipe.fileHandleForWriting.close()
        let start = Date()
        XCTAssertEqual(try SmallFile.read("/proc/self/fd/\(pipe.fileHandleForReading.fileDescriptor)", limit: 100), [])
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "no wait for a writer that has left")
    }

    // With keep, what was read is kept: a fifo written once, asked for twice, gives its
    // bytes twice; without keep the second read waits for a writer that never comes.
    func testAKeptFifoGivesItsBytesTwice() throws {
        let path = "\(folder)/once"
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
            let fd = open(path, O_WRONLY)
            _ = write(fd, "once\n", 5)
            close(fd)
        }
        XCTAssertEqual(try SmallFile.read(path, limit: 100, waitSeconds: 5, keep: true), Array("once\n".utf8))
        XCTAssertEqual(try SmallFile.read(path, limit: 100, keep: true), Array("once\n".utf8))
        XCTAssertNotNil(failure(path, wait: 0.2), "read again, not kept")
        // Named another way (./, a symlink), it is the same file, kept.
        XCTAssertEqual(symlink(path, "\(folder)/alias"), 0)
        XCTAssertEqual(try SmallFile.read("\(folder)/./once", limit: 100, waitSeconds: 0.2, keep: true), Array("once\n".utf8))
        XCTAssertEqual(try SmallFile.read("\(folder)/alias", limit: 100, waitSeconds: 0.2, keep: true), Array("once\n".utf8))
    }
}
