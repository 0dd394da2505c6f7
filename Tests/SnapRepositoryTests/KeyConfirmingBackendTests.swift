import Foundation
import XCTest
import SnapCore
import SnapStorage
@testable import SnapRepository

/// A repository opened from the copies a `KeyHint` keeps confirms its key file against the
/// repository (`KeyConfirmingBackend`): along with its first listing, or with one `stat`
/// before any other read or write but a lock's; a key file gone or changed stops it.
final class KeyConfirmingBackendTests: CacheRootTestCase {
    // A repository opened from the copies confirms the key file along with its first
    // listing; after that, nothing more is asked.
    func testFirstListingConfirmsTheKey() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let counting = CountingBackend(backend)
        let repository = try Repository.open(backend: counting, password: "pw", cacheRoot: cacheRoot)
        let confirming = try XCTUnwrap(repository.backend as? KeyConfirmingBackend)
        let listing = try repository.backend.list(kinds: [.snapshots, .index])
        XCTAssertNil(listing.files[.keys], "keys/ is listed for the check, not passed on")
        XCTAssertTrue(confirming.isConfirmed)
        XCTAssertEqual(counting.counts[.list], 3, "snapshots/, index/ and keys/, listed one by one here")
        _ = try repository.backend.list(.snapshots)
        XCTAssertEqual(counting.counts[.list], 4, "no keys/ once confirmed")
        XCTAssertEqual(counting.counts[.stat], 0)
    }

    // Before any listing, a read, or a write other than a lock's, first asks for the key
    // file's size, once.
    func testOtherCallsConfirmWithOneStat() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let counting = CountingBackend(backend)
        let repository = try Repository.open(backend: counting, password: "pw", cacheRoot: cacheRoot)
        try repository.backend.write(FileName(.locks, String(repeating: "a", count: 64)), data: [1])
        try repository.backend.delete(FileName(.locks, String(repeating: "a", count: 64)))
        XCTAssertEqual(counting.counts[.stat], 0, "a lock needs no confirmation")
        _ = try repository.backend.read(.config, range: nil)
        _ = try repository.backend.read(.config, range: nil)
        XCTAssertEqual(counting.counts[.stat], 1)
        XCTAssertEqual(counting.counts[.read], 2)
        XCTAssertEqual((repository.backend as? KeyConfirmingBackend)?.isConfirmed, true)
    }

    // A read before any listing stops on a withdrawn key too, without reading the file.
    func testWithdrawnKeyStopsAReadBeforeAnyListing() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let file = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location)?.remembered)
        let counting = CountingBackend(backend)
        let repository = try Repository.open(backend: counting, password: "pw", cacheRoot: cacheRoot)
        try backend.delete(file)
        guard case .keyWithdrawn? = errorThrown(by: { _ = try repository.backend.read(.config, range: nil) }) as? RepositoryError else {
            return XCTFail("expected keyWithdrawn")
        }
        XCTAssertEqual(counting.counts[.read], 0)
    }

    // A key file changed in place (same name, other bytes: damage) is listed with another
    // size: the copy no longer stands for it.
    func testKeyListedWithAnotherSizeIsWithdrawn() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let file = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location)?.remembered)
        backend.tamper(file) { $0.append(0x20) }
        let (repository, _) = try open(backend, "pw")
        guard case .keyWithdrawn? = errorThrown(by: { _ = try repository.backend.list(.snapshots) }) as? RepositoryError else {
            return XCTFail("expected keyWithdrawn")
        }
    }
}
