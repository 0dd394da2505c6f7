import Foundation
import Synchronization
import XCTest
import SnapCore
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

/// A repository opened from the copies a `KeyHint` keeps confirms its key file against the
/// repository (`KeyConfirmingBackend`): along with its first listing where folders are
/// listed together, or with one `stat` before any other read or write (and, where they are
/// not, before a lock's too); a key file gone or changed stops it.
final class KeyConfirmingBackendTests: CacheRootTestCase {
    /// A backend that says it lists folders together (as S3 does), so that `keys/` rides along.
    private final class ListsTogether: ForwardingBackend, @unchecked Sendable {
        override var listsKindsTogether: Bool { true }
    }

    /// A backend whose listings of `keys/` come back empty (a replica that did not answer).
    private final class KeysUnlisted: ForwardingBackend, @unchecked Sendable {
        override var listsKindsTogether: Bool { true }
        override func list(_ kind: FileKind) throws -> [FileInfo] { kind == .keys ? [] : try base.list(kind) }
    }

    /// A backend whose next `stat` fails as a network would.
    private final class FailingStat: ForwardingBackend, @unchecked Sendable {
        let failures = Atomic<Int>(1)
        override func stat(_ file: FileName) throws -> FileInfo {
            if failures.subtract(1, ordering: .relaxed).newValue >= 0 {
                throw StorageError.transient(operation: "stat", file: file, location: location, detail: "connection reset")
            }
            return try base.stat(file)
        }
    }

    /// A repository on `backend` and its key file (name and size).
    private func repositoryKey(on backend: MemoryBackend) throws -> FileInfo {
        try makeRepository(on: backend, password: "pw")
        let keys = try backend.list(.keys)
        XCTAssertEqual(keys.count, 1)
        return try XCTUnwrap(keys.first)
    }

    /// How often a confirming backend said its key was withdrawn.
    private final class Withdrawals: Sendable {
        private let calls = Atomic<Int>(0)
        func add() { calls.add(1, ordering: .relaxed) }
        var count: Int { calls.load(ordering: .relaxed) }
    }

    /// `base` behind a confirming backend for `key`, and how often it called `withdrawn`.
    private func confirming(_ base: Backend, key: FileInfo) -> (KeyConfirmingBackend, Withdrawals) {
        let withdrawals = Withdrawals()
        return (KeyConfirmingBackend(base, key: key) { withdrawals.add() }, withdrawals)
    }

    private static let lock = FileName(.locks, String(repeating: "a", count: 64))

    // Where folders are listed together, a repository opened from the copies confirms the
    // key file along with its first listing; after that, nothing more is asked.
    func testFirstListingConfirmsTheKey() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let counting = CountingBackend(ListsTogether(backend))
        let repository = try Repository.open(backend: counting, password: "pw", cacheRoot: cacheRoot)
        let confirming = try XCTUnwrap(repository.backend as? KeyConfirmingBackend)
        let listing = try repository.backend.list(kinds: [.snapshots, .index])
        XCTAssertNil(listing.files[.keys], "keys/ is listed for the check, not passed on")
        XCTAssertTrue(confirming.isConfirmed)
        XCTAssertEqual(counting.counts[.list], 3, "snapshots/, index/ and keys/ (one request on S3)")
        _ = try repository.backend.list(.snapshots)
        XCTAssertEqual(counting.counts[.list], 4, "no keys/ once confirmed")
        XCTAssertEqual(counting.counts[.stat], 0)
    }

    // A listing of data/ alone does not take keys/ along (on S3 every index file lies
    // between the two): the key is confirmed with a stat instead.
    func testListingOfPacksAloneConfirmsWithAStat() throws {
        let backend = MemoryBackend()
        let key = try repositoryKey(on: backend)
        let counting = CountingBackend(ListsTogether(backend))
        let (confirming, _) = confirming(counting, key: key)
        let listing = try confirming.list(kinds: [.data])
        XCTAssertNil(listing.files[.keys])
        XCTAssertEqual(counting.counts[.list], 1, "data/ only")
        XCTAssertEqual(counting.counts[.stat], 1)
        XCTAssertTrue(confirming.isConfirmed)
    }

    // Where folders are listed together, a lock is written and removed before the key is
    // confirmed; a read first asks for the key file's size, once.
    func testOtherCallsConfirmWithOneStat() throws {
        let backend = MemoryBackend()
        let key = try repositoryKey(on: backend)
        let counting = CountingBackend(ListsTogether(backend))
        let (confirming, _) = confirming(counting, key: key)
        try confirming.write(Self.lock, data: [1])
        try confirming.delete(Self.lock)
        XCTAssertEqual(counting.counts[.stat], 0, "a lock needs no confirmation here")
        _ = try confirming.read(.config, range: nil)
        _ = try confirming.read(.config, range: nil)
        XCTAssertEqual(counting.counts[.stat], 1)
        XCTAssertEqual(counting.counts[.read], 2)
        XCTAssertTrue(confirming.isConfirmed)
    }

    // Where a listing of keys/ would be a request of its own (local disk, SFTP, REST), the
    // key is confirmed with a stat before anything, the lock included: a lock never makes
    // the folders of a repository that is gone, and a listing needs no keys/.
    func testWithoutListingsTogetherTheKeyIsConfirmedBeforeTheLock() throws {
        let backend = MemoryBackend()
        let key = try repositoryKey(on: backend)
        let counting = CountingBackend(backend)
        let (confirming, _) = confirming(counting, key: key)
        try confirming.write(Self.lock, data: [1])
        XCTAssertEqual(counting.counts[.stat], 1)
        _ = try confirming.list(kinds: [.snapshots, .index])
        XCTAssertEqual(counting.counts[.list], 2, "snapshots/ and index/, no keys/")
        XCTAssertEqual(counting.counts[.stat], 1)

        try backend.delete(key.file)
        let (stale, withdrawals) = self.confirming(backend, key: key)
        let second = FileName(.locks, String(repeating: "b", count: 64))
        guard case .keyWithdrawn? = errorThrown(by: { try stale.write(second, data: [1]) }) as? RepositoryError else {
            return XCTFail("expected keyWithdrawn")
        }
        XCTAssertEqual(try backend.list(.locks).map(\.file), [Self.lock], "only the first lock, written while the key was there")
        XCTAssertEqual(withdrawals.count, 1)
    }

    // Once the key file is gone, no read, write or removal reaches the repository, the
    // copies are forgotten once, and later calls are refused without asking again.
    func testWithdrawnKeyStopsEveryCallWithoutReachingTheRepository() throws {
        let backend = MemoryBackend()
        let key = try repositoryKey(on: backend)
        try backend.delete(key.file)
        let counting = CountingBackend(ListsTogether(backend))
        let (confirming, withdrawals) = confirming(counting, key: key)
        let data = FileName(.data, String(repeating: "d", count: 64))
        let index = FileName(.index, String(repeating: "e", count: 64))
        let staged = try confirming.makeStagedFile()
        try staged.append([1, 2, 3])
        let calls: [(String, () throws -> Void)] = [
            ("read", { _ = try confirming.read(.config, range: nil) }),
            ("readMetadata", { _ = try confirming.readMetadata(.config) { _ in true } }),
            ("write", { try confirming.write(data, data: [1]) }),
            ("write staged", { try confirming.write(data, staged: staged) }),
            ("writeMetadata", { try confirming.writeMetadata(index, data: [1]) }),
            ("writeMetadata staged", { try confirming.writeMetadata(index, staged: staged) }),
            ("delete", { try confirming.delete(.config) }),
            ("stat", { _ = try confirming.stat(.config) }),
            ("list", { _ = try confirming.list(.snapshots) }),
            ("list kinds", { _ = try confirming.list(kinds: [.snapshots, .index]) }),
        ]
        for (name, call) in calls {
            guard case .keyWithdrawn? = errorThrown(by: call) as? RepositoryError else { return XCTFail("\(name): expected keyWithdrawn") }
        }
        XCTAssertEqual(counting.counts[.stat], 2, "the key file, then config (is anything there?); nothing after")
        XCTAssertEqual(counting.counts[.read] + counting.counts[.write] + counting.counts[.delete] + counting.counts[.list], 0)
        XCTAssertFalse(try backend.exists(data))
        XCTAssertFalse(try backend.exists(index))
        XCTAssertTrue(try backend.exists(.config))
        XCTAssertEqual(withdrawals.count, 1)
    }

    // A listing that lacks the key file does not prove it gone (a mirror lists what the
    // replicas that answered hold): the key file itself is asked for.
    func testKeyMissingFromAListingIsAskedFor() throws {
        let backend = MemoryBackend()
        let key = try repositoryKey(on: backend)
        let counting = CountingBackend(KeysUnlisted(backend))
        let (confirming, withdrawals) = confirming(counting, key: key)
        _ = try confirming.list(kinds: [.snapshots, .index])
        XCTAssertTrue(confirming.isConfirmed)
        XCTAssertEqual(counting.counts[.stat], 1)
        XCTAssertEqual(withdrawals.count, 0)
    }

    // Nothing at the location (a drive not mounted, another bucket): neither the key file
    // nor config is there, so the command says there is no repository, and the copies stay.
    func testNothingAtTheLocationIsNotARepository() throws {
        let backend = MemoryBackend()
        let key = try repositoryKey(on: backend)
        let empty = MemoryBackend()
        for base in [ListsTogether(empty), empty] as [Backend] {
            let (confirming, withdrawals) = confirming(base, key: key)
            let calls: [() throws -> Void] = [{ _ = try confirming.list(kinds: [.snapshots, .index]) }, { try confirming.write(Self.lock, data: [1]) }]
            for call in calls {
                guard case .notARepository? = errorThrown(by: call) as? RepositoryError else {
                    return XCTFail("expected notARepository from \(base)")
                }
            }
            XCTAssertEqual(withdrawals.count, 0, "the copies are kept for when the repository is back")
        }
        XCTAssertEqual(try empty.list(.locks).count, 0, "no lock left where nothing is")
    }

    // A failure to ask (a network error) is thrown as it is: the key is neither withdrawn
    // nor taken as confirmed, and the next call asks again.
    func testFailureToAskIsThrownAndAskedAgain() throws {
        let backend = MemoryBackend()
        let key = try repositoryKey(on: backend)
        let (confirming, withdrawals) = confirming(FailingStat(backend), key: key)
        guard case .transient? = errorThrown(by: { _ = try confirming.read(.config, range: nil) }) as? StorageError else {
            return XCTFail("expected the transient error")
        }
        XCTAssertFalse(confirming.isConfirmed)
        _ = try confirming.read(.config, range: nil)
        XCTAssertTrue(confirming.isConfirmed)
        XCTAssertEqual(withdrawals.count, 0)
    }

    // A key file changed in place (same name, other bytes: damage) is listed with another
    // size: the copy no longer stands for it.
    func testKeyListedWithAnotherSizeIsWithdrawn() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let file = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location)?.remembered)
        backend.tamper(file) { $0.append(0x20) }
        let (repository, _) = try open(ListsTogether(backend), "pw")
        guard case .keyWithdrawn? = errorThrown(by: { _ = try repository.backend.list(.snapshots) }) as? RepositoryError else {
            return XCTFail("expected keyWithdrawn")
        }
        XCTAssertNil(KeyHint(cacheRoot: cacheRoot, location: backend.location)?.remembered, "the copies are forgotten")
    }
}
