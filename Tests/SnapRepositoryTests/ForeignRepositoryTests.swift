import XCTest
import SnapCore
import SnapCrypto
import SnapStorage
@testable import SnapRepository

/// Opening another tool's repository names the tool instead of calling it damaged or absent.
final class ForeignRepositoryTests: XCTestCase {
    /// A key file as restic writes it (restic doc/design.rst), with made-up salt and data.
    private let resticKey = Array("""
        {"created":"2024-05-01T12:00:00.1Z","username":"me","hostname":"h","kdf":"scrypt","N":32768,"r":8,"p":1,\
        "salt":"c2FsdHNhbHRzYWx0c2FsdA==","data":"ZGF0YWRhdGFkYXRhZGF0YQ=="}
        """.utf8)

    private func write(_ bytes: [UInt8], as kind: FileKind, to backend: MemoryBackend) throws {
        try backend.write(FileName(kind, Hex.encode(SHA256.hash(bytes))), data: bytes)
    }

    private func openError(_ backend: MemoryBackend, keySkipped: (SkippedKey) -> Void = { _ in }) -> Error? {
        do {
            _ = try Repository.open(backend: backend, password: "pw", keySkipped: keySkipped)
            return nil
        } catch {
            return error
        }
    }

    // Only restic key files: a restic repository, and no key file reported as damaged on the way.
    func testResticKeyFilesNameRestic() throws {
        let backend = MemoryBackend()
        try backend.write(.config, data: Array(repeating: 0x5a, count: 200))
        try write(resticKey, as: .keys, to: backend)
        var skipped: [SkippedKey] = []
        let error = openError(backend) { skipped.append($0) }
        guard case .foreignRepository(_, .restic)? = error as? RepositoryError else {
            return XCTFail("expected a restic repository, got \(String(describing: error))")
        }
        let message = (error as? RepositoryError)?.description ?? ""
        XCTAssertTrue(message.hasSuffix("memory: is a restic repository, not a snap repository: import its snapshots with 'snap copy --from-repo restic:memory:' (docs/from-restic.md)"), message)
        XCTAssertTrue(skipped.isEmpty)
    }

    // A snap repository with a restic key file planted in it still opens; the stray key is named.
    func testStrayResticKeyInSnapRepositoryIsSkipped() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        try write(resticKey, as: .keys, to: backend)
        var skipped: [SkippedKey] = []
        _ = try Repository.open(backend: backend, password: "pw", keySkipped: { skipped.append($0) })
        XCTAssertEqual(skipped.count, 1)
        XCTAssertTrue(skipped.first?.why.contains("restic key file") ?? false, "\(skipped)")
    }

    // A snap key file is never taken for restic's (lower-case n, a version), nor junk JSON.
    func testSnapKeysAndJunkAreNotRestic() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        for info in try backend.list(.keys) {
            XCTAssertFalse(ForeignFormat.isResticKey(try backend.read(info.file)))
        }
        XCTAssertFalse(ForeignFormat.isResticKey(Array(#"{"kdf":"scrypt"}"#.utf8)))
        XCTAssertFalse(ForeignFormat.isResticKey(Array("not json".utf8)))
        XCTAssertFalse(ForeignFormat.isBorgConfig(try backend.read(.config)))
    }

    // A plain-text INI config with a [repository] section and no keys: a borg repository.
    func testBorgConfigNamesBorg() throws {
        let backend = MemoryBackend()
        try backend.write(.config, data: Array("[repository]\nversion = 1\nsegments_per_dir = 1000\nid = 00ff\n".utf8))
        guard case .foreignRepository(_, .borg)? = openError(backend) as? RepositoryError else {
            return XCTFail("expected a borg repository")
        }
        // Without keys and with a config of another kind, it is still just not a repository.
        let other = MemoryBackend()
        try other.write(.config, data: Array("[core]\n".utf8))
        guard case .notARepository? = openError(other) as? RepositoryError else { return XCTFail("expected notARepository") }
    }
}
