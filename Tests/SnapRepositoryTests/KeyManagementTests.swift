import Foundation
import SnapCore
import SnapCrypto
@testable import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

/// Several passwords for one repository: list, add, remove, change.
final class KeyManagementTests: XCTestCase {
    private let cheap = Scrypt.Parameters(n: 1024, r: 8, p: 1)

    private func makeRepository(_ backend: Backend) throws -> Repository {
        var options = Repository.InitOptions()
        options.keyCost = cheap
        return try Repository.initialize(backend: backend, password: "first", options: options,
                                         hostname: "h", username: "u", now: "2025-01-01T00:00:00Z")
    }

    func testListMarksTheKeyInUseAndAddedKeysOpen() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend)
        let second = try repository.addKey(password: "second", cost: cheap, hostname: "h2", username: "u2", now: "2025-02-01T00:00:00Z")
        let keys = try repository.listKeys()
        XCTAssertEqual(keys.count, 2)
        XCTAssertEqual(keys.filter(\.current).map(\.id), [try XCTUnwrap(repository.keyID)])
        XCTAssertEqual(keys.last?.hostname, "h2")
        let reopened = try Repository.open(backend: backend, password: "second")
        XCTAssertEqual(reopened.keyID, second)
        XCTAssertEqual(reopened.keys, repository.keys)
    }

    func testRemoveRefusesTheKeyInUseAndTheLastKey() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend)
        let current = try XCTUnwrap(repository.keyID)
        XCTAssertThrowsError(try repository.removeKey(current)) { error in
            XCTAssertTrue("\(error)".contains("is the only key that opens the repository"), "the only key: \(error)")
        }
        let second = try repository.addKey(password: "second", cost: cheap, hostname: "h", username: "u", now: "2025-02-01T00:00:00Z")
        XCTAssertThrowsError(try repository.removeKey(current)) { error in
            XCTAssertTrue("\(error)".contains("is the one this command opened the repository with"), "\(error)")
        }
        let viaSecond = try Repository.open(backend: backend, password: "second")
        try viaSecond.removeKey(current)
        XCTAssertThrowsError(try Repository.open(backend: backend, password: "first"))
        XCTAssertEqual(try viaSecond.listKeys().map(\.id), [second])
        // Only an unusable file is left beside it: the last usable key stays, even for a
        // repository opened without a key file of its own.
        try backend.write(FileName(.keys, String(repeating: "ab", count: 32)), data: Array("junk".utf8))
        let keyless = Repository(backend: backend, keys: viaSecond.keys, config: viaSecond.config)
        XCTAssertThrowsError(try keyless.removeKey(second)) { error in
            XCTAssertTrue("\(error)".contains("only key"), "\(error)")
        }
        XCTAssertEqual(try keyless.listKeys().filter { $0.problem != nil }.count, 1, "the junk file is listed as not usable")

        // A key file whose scrypt parameters open would refuse is listed as not usable too.
        let good = try backend.read(FileName(.keys, second.hex))
        var fields = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(good)) as? [String: Any])
        fields["n"] = 1 << 40
        let impossible = Array(try JSONSerialization.data(withJSONObject: fields))
        let name = Hex.encode(SHA256.hash(impossible))
        try backend.write(FileName(.keys, name), data: impossible)
        let listed = try XCTUnwrap(try keyless.listKeys().first { $0.id.hex == name })
        XCTAssertTrue(listed.problem?.contains("scrypt parameters out of range") ?? false, "\(listed)")
    }

    func testChangePasswordReplacesTheKeyInUse() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend)
        let old = try XCTUnwrap(repository.keyID)
        let new = try repository.changePassword(to: "new", cost: cheap, hostname: "h", username: "u", now: "2025-03-01T00:00:00Z")
        XCTAssertNotEqual(new, old)
        XCTAssertThrowsError(try Repository.open(backend: backend, password: "first"))
        XCTAssertEqual(try Repository.open(backend: backend, password: "new").keys, repository.keys)
        XCTAssertEqual(try repository.listKeys().map(\.id), [new])
    }

    func testFindKeyByPrefix() throws {
        let repository = try makeRepository(MemoryBackend())
        let id = try XCTUnwrap(repository.keyID)
        XCTAssertEqual(try repository.findKey(String(id.hex.prefix(6))).id, id)
        XCTAssertThrowsError(try repository.findKey("zz"))
        XCTAssertThrowsError(try repository.findKey(""))
    }
}
