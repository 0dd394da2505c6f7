import Foundation
import XCTest
import SnapCore
import SnapStorage
@testable import SnapRepository

/// `Repository.open` with a cache root remembers the key file that opened the repository
/// (`KeyHint`) and reads it at once next time, without listing `keys/`.
final class KeyHintTests: XCTestCase {
    private var cacheRoot = ""

    override func setUpWithError() throws {
        cacheRoot = NSTemporaryDirectory() + "snap-key-hint-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: cacheRoot) }

    private func open(_ backend: Backend, _ password: String) throws -> (Repository, RequestCounts) {
        let counting = CountingBackend(backend)
        let repository = try Repository.open(backend: counting, password: password, cacheRoot: cacheRoot)
        return (repository, counting.counts)
    }

    // The first open lists the key files; the next reads the remembered key and the config only.
    func testRememberedKeyOpensWithoutListing() throws {
        let backend = MemoryBackend()
        let created = try makeRepository(on: backend, password: "pw")
        let (_, first) = try open(backend, "pw")
        XCTAssertEqual(first[.list], 1)
        let (opened, second) = try open(backend, "pw")
        XCTAssertEqual(opened.keys, created.keys)
        XCTAssertEqual(second[.list], 0, "no listing of keys/")
        XCTAssertEqual(second[.read], 2, "the key file and the config")
        XCTAssertEqual(second.total, 2)
    }

    // Without the cache (--no-cache), a hint under hintRoot is used but none is written.
    func testHintRootIsReadButNeverWritten() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        let readOnly = { () throws -> RequestCounts in
            let counting = CountingBackend(backend)
            _ = try Repository.open(backend: counting, password: "pw", hintRoot: self.cacheRoot)
            return counting.counts
        }
        XCTAssertEqual(try readOnly()[.list], 1, "no hint yet: keys/ is listed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cacheRoot), "nothing written")
        _ = try open(backend, "pw")  // a command with the cache remembers the key
        let counts = try readOnly()
        XCTAssertEqual(counts[.list], 0, "the hint is read")
        XCTAssertEqual(counts.total, 2, "the key file and the config")
    }

    // init remembers the key it wrote: the first open lists nothing.
    func testInitRemembersItsKey() throws {
        let backend = MemoryBackend()
        _ = try Repository.initialize(backend: backend, password: "pw", options: cheapOptions(), hostname: "h", username: "u",
                                      now: "2025-01-01T00:00:00Z", cacheRoot: cacheRoot)
        let (_, counts) = try open(backend, "pw")
        XCTAssertEqual(counts[.list], 0)
        XCTAssertEqual(counts.total, 2)
    }

    // A remembered key file that was removed, or that the password does not open, sends the
    // open down the usual path, which then remembers the key that did open.
    func testStaleOrForeignHintFallsBackToTheKeyThatOpens() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend, password: "first")
        let second = try repository.addKey(password: "second", cost: cheapKeyCost, hostname: "h", username: "u", now: "2025-02-02T00:00:00Z")
        _ = try open(backend, "second")

        // The password opens the other key: the remembered one is passed over.
        let (byFirst, counts) = try open(backend, "first")
        XCTAssertEqual(byFirst.keys, repository.keys)
        XCTAssertEqual(counts[.list], 1)
        XCTAssertEqual(try open(backend, "first").1[.list], 0, "the key that opened is remembered")

        // The remembered key file is gone.
        _ = try open(backend, "second")
        try backend.delete(FileName(.keys, second.hex))
        let (afterRemoval, _) = try open(backend, "first")
        XCTAssertEqual(afterRemoval.keys, repository.keys)

        // A wrong password is still called wrong.
        _ = try open(backend, "first")
        guard case .wrongPassword? = errorThrown(by: { _ = try self.open(backend, "third") }) as? RepositoryError else {
            return XCTFail("expected wrongPassword")
        }
    }

    // The hint names a key file of the repository at one location; another location
    // (another repository) does not use it, and a damaged hint file is ignored.
    func testHintIsPerLocationAndDamageIsIgnored() throws {
        let a = MemoryBackend(location: "memory:a"), b = MemoryBackend(location: "memory:b")
        try makeRepository(on: a, password: "pw")
        try makeRepository(on: b, password: "pw")
        _ = try open(a, "pw")
        let hint = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: a.location))
        XCTAssertNotNil(hint.remembered)
        XCTAssertNil(KeyHint(cacheRoot: cacheRoot, location: b.location)?.remembered)
        try Data("not a key name".utf8).write(to: URL(fileURLWithPath: hint.path))
        XCTAssertNil(hint.remembered)
        let (_, counts) = try open(a, "pw")
        XCTAssertEqual(counts[.list], 1)
        XCTAssertNotNil(hint.remembered, "rewritten after the open")
    }
}
