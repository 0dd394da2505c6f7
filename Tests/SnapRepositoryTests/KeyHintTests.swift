import Foundation
import XCTest
import SnapCore
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

/// `Repository.open` with a cache root remembers the key file that opened the repository
/// (`KeyHint`) with copies of it and of the config, opens from them next time, and confirms
/// the key file against the repository before using it: along with the first listing where
/// folders are listed together, as on S3 (`KeyConfirmingBackend`; most tests here), with a
/// read of the key file while it opens elsewhere.
final class KeyHintTests: CacheRootTestCase {
    /// A backend that says it lists folders together (as S3 does), so that `keys/` rides along.
    private final class ListsTogether: ForwardingBackend, @unchecked Sendable {
        override var listsKindsTogether: Bool { true }
    }

    private func memory() -> Backend { ListsTogether(MemoryBackend()) }

    // Where folders are listed one by one (local, SFTP, REST), the open reads the key file
    // (one request, no listing); another repository at the same location (backup disks
    // rotated at one mount point) opens the usual way, with no error, and is remembered.
    func testOneReadConfirmsAndAnotherRepositoryAtTheLocationOpens() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let (opened, counts) = try open(backend, "pw")
        XCTAssertEqual(counts.total, 1)
        XCTAssertEqual(counts[.read], 1)
        XCTAssertNil(opened.backend as? KeyConfirmingBackend, "confirmed already")

        let other = MemoryBackend(location: backend.location)
        let second = try makeRepository(on: other, password: "pw")
        let (swapped, _) = try open(other, "pw")
        XCTAssertEqual(swapped.config.id, second.config.id)
        XCTAssertEqual(try open(other, "pw").1.total, 1, "its key remembered now")
        let (back, _) = try open(backend, "pw")
        XCTAssertEqual(back.config.id, opened.config.id)

        // A key removed: the usual way, which refuses the old password as wrong.
        let hinted = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location)?.remembered)
        _ = try back.changePassword(to: "new", cost: cheapKeyCost, hostname: "h", username: "u", now: "2025-03-03T00:00:00Z")
        XCTAssertThrowsError(try backend.stat(hinted))
        guard case .wrongPassword? = errorThrown(by: { _ = try self.open(backend, "pw") }) as? RepositoryError else {
            return XCTFail("expected wrongPassword")
        }
        XCTAssertEqual(try open(backend, "new").0.config.id, opened.config.id)
    }

    /// Answers `stat` for files it no longer has, as a server's object cache does for HEAD
    /// (rclone serve restic, by default): reads and listings see what is really there.
    private final class StaleStat: ForwardingBackend, @unchecked Sendable {
        var remembered: [FileName: FileInfo] = [:]
        override func stat(_ file: FileName) throws -> FileInfo {
            if let info = try? base.stat(file) { remembered[file] = info; return info }
            if let info = remembered[file] { return info }
            return try base.stat(file)
        }
    }

    // The repository removed from the server (a disk swapped, a folder deleted) while its HEAD
    // answers stay cached: the copies must not open it, or a backup would "succeed" into a
    // location that holds no config and no key.
    func testARepositoryGoneIsNotOpenedFromTheCopiesWhateverAStatSays() throws {
        let memory = MemoryBackend()
        let backend = StaleStat(memory)
        try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let hinted = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location)?.remembered)
        _ = try backend.stat(hinted)
        for kind in FileKind.allCases { for info in try memory.list(kind) { try memory.delete(info.file) } }
        XCTAssertNoThrow(try backend.stat(hinted), "the stale answer this test is about")
        guard case .notARepository? = errorThrown(by: { _ = try self.open(backend, "pw") }) as? RepositoryError else {
            return XCTFail("expected notARepository")
        }
    }

    // The first open lists the key files and reads them and the config; the next opens from
    // the copies kept beside the hint, with no request at all.
    func testRememberedKeyOpensWithoutRequests() throws {
        let backend = memory()
        let created = try makeRepository(on: backend, password: "pw")
        let (_, first) = try open(backend, "pw")
        XCTAssertEqual(first[.list], 1)
        let (opened, second) = try open(backend, "pw")
        XCTAssertEqual(opened.keys, created.keys)
        XCTAssertEqual(opened.config, created.config)
        XCTAssertEqual(second.total, 0, "the key file and the config come from their copies")
        XCTAssertEqual((opened.backend as? KeyConfirmingBackend)?.isConfirmed, false)
    }

    // A key file removed from the repository elsewhere (key remove, key passwd) stops the
    // command at its first listing or read, before it reads anything; the copies are
    // forgotten, so the next open tries the key files the repository holds.
    func testWithdrawnKeyStopsTheCommand() throws {
        let backend = memory()
        let repository = try makeRepository(on: backend, password: "old")
        _ = try open(backend, "old")
        let replaced = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location)?.remembered)
        // On another machine: key passwd.
        _ = try repository.changePassword(to: "new", cost: cheapKeyCost, hostname: "h", username: "u", now: "2025-03-03T00:00:00Z")
        XCTAssertThrowsError(try backend.stat(replaced))

        let (stale, counts) = try open(backend, "old")
        XCTAssertEqual(counts.total, 0, "opened from the copies")
        let hint = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location))
        let files = [hint.path, hint.path + ".key", hint.path + ".config"]
        XCTAssertTrue(files.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        // A read before any listing asks for the key file first.
        guard case let .keyWithdrawn(file, _)? = errorThrown(by: {
            _ = try stale.backend.read(FileName(.snapshots, String(repeating: "b", count: 64)), range: nil)
        }) as? RepositoryError else {
            return XCTFail("expected keyWithdrawn")
        }
        XCTAssertEqual(file, replaced)
        XCTAssertFalse(files.contains { FileManager.default.fileExists(atPath: $0) }, "the hint and both copies forgotten")

        // The next open lists keys/: the old password opens nothing now, the new one does.
        guard case .wrongPassword? = errorThrown(by: { _ = try self.open(backend, "old") }) as? RepositoryError else {
            return XCTFail("expected wrongPassword")
        }
        let (current, again) = try open(backend, "new")
        XCTAssertEqual(current.keys, repository.keys)
        XCTAssertEqual(again[.list], 1)
    }

    // Another repository at the same location (the old one deleted, a new one made with the
    // same password): its key files have other names, so the copies are withdrawn at the
    // first listing, and the next open finds the new repository.
    func testReplacedRepositoryIsFoundAgain() throws {
        let backend = memory()
        try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        for kind in FileKind.allCases where kind != .config { for info in try backend.list(kind) { try backend.delete(info.file) } }
        try backend.delete(.config)
        let fresh = try makeRepository(on: backend, password: "pw")
        let (stale, _) = try open(backend, "pw")
        XCTAssertNotEqual(stale.config.id, fresh.config.id)
        guard case .keyWithdrawn? = errorThrown(by: { _ = try stale.backend.list(.snapshots) }) as? RepositoryError else {
            return XCTFail("expected keyWithdrawn")
        }
        let (opened, _) = try open(backend, "pw")
        XCTAssertEqual(opened.config.id, fresh.config.id)
    }

    // Damaged copies are passed over: a key copy that does not hash to its name is read
    // from the repository again (and the config with it); so is the key file when the
    // config copy does not authenticate, so that config is never read from a repository
    // whose key is unconfirmed. Both are kept anew.
    func testDamagedCopiesAreReadAgain() throws {
        let backend = memory()
        let created = try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let hint = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location))
        let flip = { (path: String) throws in
            var bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
            bytes[bytes.count / 2] ^= 1
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        try flip(hint.path + ".key")
        var (opened, counts) = try open(backend, "pw")
        XCTAssertEqual(opened.keys, created.keys)
        XCTAssertEqual(counts[.read], 2, "the key file and the config")
        XCTAssertNil(opened.backend as? KeyConfirmingBackend, "read from the repository: nothing to confirm")
        XCTAssertEqual(try open(backend, "pw").1.total, 0, "copies kept anew")

        try flip(hint.path + ".config")
        (opened, counts) = try open(backend, "pw")
        XCTAssertEqual(opened.config, created.config)
        XCTAssertEqual(counts[.read], 2, "the key file, then the config")
        XCTAssertNil(opened.backend as? KeyConfirmingBackend, "the key file was read: nothing to confirm")
        XCTAssertEqual(try open(backend, "pw").1.total, 0, "copies kept anew")
    }

    // check opens with keyCopies: false: it reads the key file and config it reports on.
    func testCopiesCanBeDeclined() throws {
        let backend = memory()
        try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let counting = CountingBackend(backend)
        let repository = try Repository.open(backend: counting, password: "pw", cacheRoot: cacheRoot, keyCopies: false)
        XCTAssertEqual(counting.counts[.read], 2)
        XCTAssertEqual(counting.counts[.list], 0)
        XCTAssertNil(repository.backend as? KeyConfirmingBackend)
        XCTAssertEqual(try open(backend, "pw").1.total, 0, "the copies stay for the commands after it")
    }

    // Cache files that are not what a copy is are passed over without waiting or reading
    // them whole: a FIFO in place of the key copy, a symbolic link in place of the hint, a
    // config copy larger than any config.
    func testOddCacheFilesArePassedOver() throws {
        let backend = memory()
        let created = try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let hint = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location))
        let file = try XCTUnwrap(hint.remembered)

        try FileManager.default.removeItem(atPath: hint.path + ".key")
        XCTAssertEqual(mkfifo(hint.path + ".key", 0o600), 0)
        var (opened, counts) = try open(backend, "pw")
        XCTAssertEqual(opened.keys, created.keys)
        XCTAssertEqual(counts[.read], 2, "the key file and the config, read from the repository")

        XCTAssertNotNil(hint.configCopy)
        try Data(repeating: 7, count: 100 << 10).write(to: URL(fileURLWithPath: hint.path + ".config"))
        XCTAssertNil(hint.configCopy, "larger than any config: not read")
        (opened, counts) = try open(backend, "pw")
        XCTAssertEqual(opened.config, created.config)
        XCTAssertEqual(counts[.read], 2, "the key file, then the config")

        let elsewhere = cacheRoot + "/name"
        try Data(file.name.utf8).write(to: URL(fileURLWithPath: elsewhere))
        try FileManager.default.removeItem(atPath: hint.path)
        try FileManager.default.createSymbolicLink(atPath: hint.path, withDestinationPath: elsewhere)
        XCTAssertNil(hint.remembered, "a link is not followed")
        (opened, counts) = try open(backend, "pw")
        XCTAssertEqual(opened.keys, created.keys)
        XCTAssertEqual(counts[.list], 1, "keys/ listed, as without a hint")
    }

    // key passwd and key remove forget the hint and copies of the key they remove, and only those.
    func testForgetRememberedKeyForgetsOnlyThatKey() throws {
        let backend = memory()
        let repository = try makeRepository(on: backend, password: "pw")
        let other = try repository.addKey(password: "other", cost: cheapKeyCost, hostname: "h", username: "u", now: "2025-02-02T00:00:00Z")
        _ = try open(backend, "pw")
        let hint = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location))
        let files = [hint.path, hint.path + ".key", hint.path + ".config"]
        Repository.forgetRememberedKey(cacheRoot: cacheRoot, location: backend.location, key: other)
        XCTAssertTrue(files.allSatisfy { FileManager.default.fileExists(atPath: $0) }, "another key: kept")
        Repository.forgetRememberedKey(cacheRoot: cacheRoot, location: backend.location, key: KeyID(hex: try XCTUnwrap(hint.remembered).name))
        XCTAssertFalse(files.contains { FileManager.default.fileExists(atPath: $0) })
    }

    // Without the cache (--no-cache), a hint under hintRoot is used but none is written.
    func testHintRootIsReadButNeverWritten() throws {
        let backend = memory()
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

    // A command that opens from the hint marks it as used, so that the 30-day clean-up of
    // the cache (CacheLocation.removeStale) keeps the hints of repositories still in use.
    func testOpeningFromTheHintMarksItUsed() throws {
        let backend = memory()
        try makeRepository(on: backend, password: "pw")
        _ = try open(backend, "pw")
        let hint = try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location))
        let old = Date().addingTimeInterval(-40 * 86_400)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: hint.path)
        XCTAssertEqual(try open(backend, "pw").1.total, 0)
        let modified = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: hint.path)[.modificationDate] as? Date)
        XCTAssertGreaterThan(modified, Date().addingTimeInterval(-60))
    }

    // init remembers the key it wrote: the first open lists nothing.
    func testInitRemembersItsKey() throws {
        let backend = memory()
        _ = try Repository.initialize(backend: backend, password: "pw", options: cheapOptions(), hostname: "h", username: "u",
                                      now: "2025-01-01T00:00:00Z", cacheRoot: cacheRoot)
        let (_, counts) = try open(backend, "pw")
        XCTAssertEqual(counts.total, 0, "init kept copies of the key file and the config")
    }

    // A remembered key file that was removed, or that the password does not open, sends the
    // open down the usual path, which then remembers the key that did open.
    func testStaleOrForeignHintFallsBackToTheKeyThatOpens() throws {
        let backend = memory()
        let repository = try makeRepository(on: backend, password: "first")
        let second = try repository.addKey(password: "second", cost: cheapKeyCost, hostname: "h", username: "u", now: "2025-02-02T00:00:00Z")
        _ = try open(backend, "second")

        // The password opens the other key: the remembered one is passed over.
        let (byFirst, counts) = try open(backend, "first")
        XCTAssertEqual(byFirst.keys, repository.keys)
        XCTAssertEqual(counts[.list], 1)
        XCTAssertEqual(try open(backend, "first").1[.list], 0, "the key that opened is remembered")

        // The remembered key file is gone (and its copy too): the usual path.
        _ = try open(backend, "second")
        try backend.delete(FileName(.keys, second.hex))
        KeyHint(cacheRoot: cacheRoot, location: backend.location)?.forget()
        try Data(second.hex.utf8).write(to: URL(fileURLWithPath: try XCTUnwrap(KeyHint(cacheRoot: cacheRoot, location: backend.location)).path))
        let (afterRemoval, removalCounts) = try open(backend, "first")
        XCTAssertEqual(afterRemoval.keys, repository.keys)
        XCTAssertEqual(removalCounts[.list], 1)

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
