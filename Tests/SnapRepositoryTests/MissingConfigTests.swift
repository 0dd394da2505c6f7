import Synchronization
import XCTest
import SnapCore
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

/// A location that lost its `config` but still holds a repository's backups is neither an
/// empty place for `init` nor "not a repository": `init` refuses to write over it, and
/// opening it names what happened instead of advising `init`.
final class MissingConfigTests: XCTestCase {
    /// A backend that remembers which folders were listed, in order.
    private final class ListingLog: ForwardingBackend, @unchecked Sendable {
        private let log = Mutex<[FileKind]>([])
        var listed: [FileKind] { log.withLock { $0 } }
        override func list(_ kind: FileKind) throws -> [FileInfo] {
            log.withLock { $0.append(kind) }
            return try base.list(kind)
        }
    }

    private static let someName = String(repeating: "ab", count: 32)

    /// A repository with packs and an index file (no snapshot), whose config was then deleted.
    private func repositoryWithoutConfig(on backend: MemoryBackend) throws {
        let repository = try makeRepository(on: backend, password: "one")
        try saveAndFinish(repository, [(.data, compressibleBytes(count: 5000, seed: 1)), (.data, compressibleBytes(count: 7000, seed: 2))])
        try backend.delete(.config)
    }

    /// Every file at `backend`, by kind, with its bytes.
    private func everything(_ backend: Backend) throws -> [FileName: [UInt8]] {
        var files: [FileName: [UInt8]] = [:]
        for kind in FileKind.allCases {
            for info in try backend.list(kind) { files[info.file] = try backend.read(info.file) }
        }
        return files
    }

    // A snapshot, an index file or a pack without config: init refuses before it writes
    // anything, naming the folder, in one line that does not advise init.
    func testInitRefusesEachKindOfBackupFile() throws {
        for kind in [FileKind.snapshots, .index, .data] {
            let backend = MemoryBackend(location: "mem:left")
            try backend.write(FileName(kind, Self.someName), data: [1, 2, 3])
            let error = errorThrown { try makeRepository(on: backend, password: "two") }
            guard case let .holdsRepositoryFiles(location, found)? = error as? RepositoryError else {
                XCTFail("\(kind): expected holdsRepositoryFiles, got \(String(describing: error))")
                continue
            }
            XCTAssertEqual(location, "mem:left")
            XCTAssertEqual(found, kind)
            XCTAssertEqual(try backend.list(.keys), [], "\(kind): init wrote a key file")
            XCTAssertFalse(try backend.exists(.config), "\(kind): init wrote config")
            let text = "\(error.map { "\($0)" } ?? "")"
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertTrue(text.hasPrefix("mem:left already holds a snap repository's files (\(kind.rawValue)/) but no config"), text)
            XCTAssertTrue(text.contains("init will not write over them"), text)
        }
    }

    // A repository whose config was deleted: init refuses and leaves every file as it was
    // (the old key file, packs and index files), so that restoring config brings it back.
    func testInitLeavesARepositoryThatLostItsConfigUntouched() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend, password: "one")
        try saveAndFinish(repository, [(.data, compressibleBytes(count: 5000, seed: 1))])
        let config = try backend.read(.config)
        try backend.delete(.config)
        let before = try everything(backend)
        guard case .holdsRepositoryFiles(_, found: .index)? = errorThrown(by: { try makeRepository(on: backend, password: "two") }) as? RepositoryError else {
            return XCTFail("expected holdsRepositoryFiles naming index/")
        }
        XCTAssertEqual(try everything(backend), before)
        try backend.write(.config, data: config)
        let reopened = try Repository.open(backend: backend, password: "one")
        XCTAssertEqual(reopened.keys, repository.keys)
    }

    // An init interrupted after its key file leaves that key file alone: init runs again
    // (FORMAT.md, "Write order and crash safety"), and the new password opens the result.
    func testInitRunsAgainOverAnOrphanKeyFile() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "one")
        try backend.delete(.config)
        let second = try makeRepository(on: backend, password: "two")
        XCTAssertEqual(try backend.list(.keys).count, 2)
        XCTAssertEqual(try Repository.open(backend: backend, password: "two").keys, second.keys)
    }

    // An init whose config cannot be written (a full disk, out of inodes) takes its key
    // file back: left, it would open master keys no config uses, beside the key of the
    // next init.
    func testInitThatCannotWriteItsConfigLeavesNoKey() throws {
        final class NoConfig: ForwardingBackend, @unchecked Sendable {
            override func write(_ file: FileName, data: [UInt8]) throws {
                if file == .config { throw StorageError.permanent(operation: "write", file: file, location: location, detail: "No space left on device") }
                try base.write(file, data: data)
            }
        }
        let backend = MemoryBackend()
        XCTAssertThrowsError(try Repository.initialize(backend: NoConfig(backend), password: "one", options: cheapOptions(),
                                                       hostname: "h", username: "u", now: "2025-01-01T00:00:00Z"))
        XCTAssertEqual(try backend.list(.keys).count, 0)
        XCTAssertFalse(try backend.exists(.config))
    }

    // Opening a repository that lost its config says so, and that init would not help; with
    // its key files gone too, it names both. Without backups it is "not a repository".
    func testOpenWithoutConfigNamesWhatIsMissing() throws {
        let backend = MemoryBackend(location: "mem:lost")
        try repositoryWithoutConfig(on: backend)
        let error = errorThrown { _ = try Repository.open(backend: backend, password: "one") }
        guard case let .configMissing(location, found, keysMissing)? = error as? RepositoryError else {
            return XCTFail("expected configMissing, got \(String(describing: error))")
        }
        XCTAssertEqual(location, "mem:lost")
        XCTAssertEqual(found, .index)
        XCTAssertFalse(keysMissing)
        let text = "\(error.map { "\($0)" } ?? "")"
        XCTAssertFalse(text.contains("\n"), text)
        XCTAssertFalse(text.contains("run 'snap init'"), text)
        XCTAssertTrue(text.hasPrefix("mem:lost looks like a snap repository whose config file is missing (it holds index/ files): "
                                     + "'snap init' would not bring it back; restore config from a backup copy"), text)

        for info in try backend.list(.keys) { try backend.delete(info.file) }
        guard case .configMissing(_, found: .index, keysMissing: true)? = errorThrown(by: { _ = try Repository.open(backend: backend, password: "one") }) as? RepositoryError else {
            return XCTFail("expected configMissing with the key files missing")
        }

        let bare = MemoryBackend()
        try makeRepository(on: bare, password: "one")
        try bare.delete(.config)
        guard case .notARepository? = errorThrown(by: { _ = try Repository.open(backend: bare, password: "one") }) as? RepositoryError else {
            return XCTFail("keys alone: expected notARepository")
        }
    }

    // The folders are listed only where config is missing: opening a repository lists
    // `keys/` alone; init on an empty location lists snapshots/, index/ and data/ once each,
    // and stops at the first folder that holds a file.
    func testFoldersAreListedOnlyWithoutConfig() throws {
        let backend = MemoryBackend()
        let log = ListingLog(backend)
        let repository = try Repository.initialize(backend: log, password: "one", options: cheapOptions(),
                                                   hostname: "h", username: "u", now: "2025-01-01T00:00:00Z")
        XCTAssertEqual(log.listed, [.snapshots, .index, .data])
        try saveAndFinish(repository, [(.data, compressibleBytes(count: 5000, seed: 1))])

        let opening = ListingLog(backend)
        _ = try Repository.open(backend: opening, password: "one")
        XCTAssertEqual(opening.listed, [.keys])

        try backend.delete(.config)
        let refusing = ListingLog(backend)
        _ = errorThrown { _ = try Repository.initialize(backend: refusing, password: "two", options: cheapOptions(),
                                                        hostname: "h", username: "u", now: "2025-01-01T00:00:00Z") }
        XCTAssertEqual(refusing.listed, [.snapshots, .index])
    }

    // A repository opened from the cache's copies whose key file and config are both gone,
    // but whose backups are left, is one that lost its config, not an empty location.
    func testConfirmingBackendNamesALostConfig() throws {
        let backend = MemoryBackend()
        try repositoryWithoutConfig(on: backend)
        let key = try XCTUnwrap(try backend.list(.keys).first)
        try backend.delete(key.file)
        let confirming = KeyConfirmingBackend(backend, key: key) {}
        guard case .configMissing(_, found: .index, keysMissing: true)? = errorThrown(by: { _ = try confirming.list(.snapshots) }) as? RepositoryError else {
            return XCTFail("expected configMissing")
        }
    }
}
