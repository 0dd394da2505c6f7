import Synchronization
import XCTest
import SnapCore
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// Counts lists and reads per kind of file that reach the backend it wraps.
private final class KindCountingBackend: ForwardingBackend, @unchecked Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func count(_ what: String) -> Int { counts.withLock { $0[what] ?? 0 } }
    private func add(_ what: String) { counts.withLock { $0[what, default: 0] += 1 } }

    override func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        add("read \(file.kind.rawValue)")
        return try base.read(file, range: range)
    }
    override func list(_ kind: FileKind) throws -> [FileInfo] {
        add("list \(kind.rawValue)")
        return try base.list(kind)
    }
}

final class CheckRequestTests: XCTestCase {
    // A check of a small repository (index held in memory) lists the index files once and
    // reads each once: the files it verified are the ones the blob index is built from.
    func testSmallIndexIsListedAndReadOnce() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        try Disk.write(f.at("small.txt"), Array("changed\n".utf8))
        try f.backup()
        let indexFiles = try f.backend.list(.index).count
        XCTAssertGreaterThanOrEqual(indexFiles, 2)

        let counting = KindCountingBackend(LocalBackend(root: f.repositoryDirectory.path))
        let repository = try Repository.open(backend: counting, password: testPassword)
        var options = CheckOptions()
        options.workers = 2
        let report = try Checker(repository: repository, options: options).run()
        XCTAssertTrue(report.isHealthy, report.summary)
        XCTAssertEqual(counting.count("list index"), 1)
        XCTAssertEqual(counting.count("read index"), indexFiles)
        XCTAssertGreaterThan(repository.index.count, 0, "the blob index was loaded from the files read")
    }

    // Above the in-memory limit the files are not kept: the index is loaded by reading them again.
    func testLargeIndexIsReadAgainNotKept() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        let indexFiles = try f.backend.list(.index).count

        let counting = KindCountingBackend(LocalBackend(root: f.repositoryDirectory.path))
        let repository = try Repository.open(backend: counting, password: testPassword)
        var options = CheckOptions()
        options.workers = 2
        options.indexPolicy.minimumTableBlobs = 1
        XCTAssertTrue(try Checker(repository: repository, options: options).run().isHealthy)
        XCTAssertEqual(counting.count("read index"), 2 * indexFiles)
        XCTAssertEqual(counting.count("list index"), 1)
    }
}
