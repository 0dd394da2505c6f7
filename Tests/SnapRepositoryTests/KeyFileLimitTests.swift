import XCTest
import Foundation
import SnapCore
import SnapCrypto
import SnapStorage
@testable import SnapRepository

/// Key files that would hold a command hostage (scrypt parameters needing gigabytes, or
/// damaged files) are skipped and named; the others are tried cheapest first.
final class KeyFileLimitTests: XCTestCase {
    private let clock = ContinuousClock()

    /// Writes a key file with these parameters and random salt and data (no password opens
    /// it) under its SHA-256, as someone with write access to the repository could.
    @discardableResult
    private func plantKey(_ backend: Backend, n: UInt64, r: UInt64, p: UInt64 = 1) throws -> FileName {
        let key = KeyFile(version: 1, created: "2025-01-01T00:00:00Z", hostname: "planted", username: "planted", kdf: "scrypt",
                          n: n, r: r, p: p, salt: Data(try SecureRandom.bytes(32)).base64EncodedString(),
                          data: Data(try SecureRandom.bytes(125)).base64EncodedString())
        return try plant(backend, try key.encoded())
    }

    /// Writes `bytes` into `keys/` under their SHA-256.
    @discardableResult
    private func plant(_ backend: Backend, _ bytes: [UInt8]) throws -> FileName {
        let file = FileName(.keys, Hex.encode(SHA256.hash(bytes)))
        try backend.write(file, data: bytes)
        return file
    }

    /// Opens `backend`, collecting the key files skipped.
    private func open(_ backend: Backend, password: String, limits: Scrypt.Limits = Scrypt.Limits()) throws -> (Repository, [SkippedKey]) {
        var skipped: [SkippedKey] = []
        let repository = try Repository.open(backend: backend, password: password, keyLimits: limits, keySkipped: { skipped.append($0) })
        return (repository, skipped)
    }

    // Planted key files needing 16, 64 and 128 GiB are skipped and named without running
    // scrypt; the valid key opens the repository at once.
    func testPlantedExpensiveKeysAreSkippedAndTheValidKeyOpens() throws {
        let backend = MemoryBackend()
        let created = try makeRepository(on: backend, password: "right")
        let planted = [try plantKey(backend, n: 1 << 24, r: 8), try plantKey(backend, n: 1 << 24, r: 32), try plantKey(backend, n: 1 << 24, r: 64)]
        let start = clock.now
        let (opened, skipped) = try open(backend, password: "right")
        XCTAssertLessThan(clock.now - start, .seconds(2))
        XCTAssertEqual(opened.keys, created.keys)
        XCTAssertEqual(Set(skipped.map(\.file)), Set(planted))
        XCTAssertTrue(skipped.allSatisfy(\.isAboveLimit))
        let lines = Set(skipped.map(\.why))
        XCTAssertEqual(lines, ["needs 16 GiB for scrypt (N=2^24, r=8), above the 1 GiB limit",
                               "needs 64 GiB for scrypt (N=2^24, r=32), above the 1 GiB limit",
                               "needs 128 GiB for scrypt (N=2^24, r=64), above the 1 GiB limit"])
        let first = try XCTUnwrap(skipped.first)
        XCTAssertEqual(first.description, "keys/\(first.file.name.prefix(8)) skipped: \(first.why)")
    }

    // With the wrong password, the error says so in one line and names each skipped key file.
    func testWrongPasswordNamesTheSkippedKeys() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "right")
        let planted = try plantKey(backend, n: 1 << 24, r: 8)
        let start = clock.now
        let error = errorThrown { _ = try self.open(backend, password: "wrong") }
        XCTAssertLessThan(clock.now - start, .seconds(2))
        guard case let .wrongPassword(_, skipped)? = error as? RepositoryError else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(skipped.map(\.file), [planted])
        let text = "\(error.map { "\($0)" } ?? "")"
        XCTAssertEqual(text, "wrong password, or no key in memory: opens with it; skipped 1 key file: keys/\(planted.name.prefix(8)) "
                           + "(needs 16 GiB for scrypt (N=2^24, r=8), above the 1 GiB limit)")
        XCTAssertFalse(text.contains("\n"))
    }

    // Key files within the limits are tried cheapest first: a planted key needing 512 MiB
    // and four 1 GiB derivations' worth of mixing would take seconds; the cheap key opens first.
    func testKeysAreTriedCheapestFirst() throws {
        let backend = MemoryBackend()
        let created = try makeRepository(on: backend, password: "right")
        try plantKey(backend, n: 1 << 19, r: 8, p: 8)
        let start = clock.now
        let (opened, skipped) = try open(backend, password: "right")
        XCTAssertLessThan(clock.now - start, .seconds(1))
        XCTAssertEqual(opened.keys, created.keys)
        XCTAssertEqual(skipped.count, 0)
    }

    // Damaged key files (not JSON, JSON that is not a key file, an unknown KDF, parameters
    // outside FORMAT.md's bounds) are skipped and named; the valid key still opens.
    func testDamagedKeyFilesAreSkipped() throws {
        let backend = MemoryBackend()
        let created = try makeRepository(on: backend, password: "right")
        let notJSON = try plant(backend, Array("{\"version\": 1, \"kdf\": \"scr".utf8))
        let notAKey = try plant(backend, Array("{\"hello\": \"world\"}".utf8))
        var argon = try KeyFile.decode(try backend.read(try XCTUnwrap(try backend.list(.keys).first { $0.file != notJSON && $0.file != notAKey }).file), name: "")
        argon.kdf = "argon2id"
        let unknownKDF = try plant(backend, try argon.encoded())
        let outOfBounds = try plantKey(backend, n: 1000, r: 8)
        let (opened, skipped) = try open(backend, password: "right")
        XCTAssertEqual(opened.keys, created.keys)
        let why = Dictionary(uniqueKeysWithValues: skipped.map { ($0.file, $0.why) })
        XCTAssertEqual(why, [notJSON: "damaged: not a valid key file", notAKey: "damaged: not a valid key file",
                             unknownKDF: "damaged: unknown key derivation 'argon2id'",
                             outOfBounds: "damaged: scrypt parameters out of range (N=1000, r=8)"])
        XCTAssertFalse(skipped.contains(where: \.isAboveLimit))
    }

    // A key file whose derivation fails (N = 2^16 with r = 1 breaks RFC 7914's N < 2^(16·r))
    // is skipped and named, and the next key is tried. The valid key costs more (N·r = 2^17
    // against 2^16), so the failing one is tried first.
    func testFailedDerivationIsSkipped() throws {
        let backend = MemoryBackend()
        var options = cheapOptions()
        options.keyCost = Scrypt.Parameters(n: 1 << 14, r: 8, p: 1)
        let created = try makeRepository(on: backend, password: "right", options: options)
        let bad = try plantKey(backend, n: 1 << 16, r: 1)
        let (opened, skipped) = try open(backend, password: "right")
        XCTAssertEqual(opened.keys, created.keys)
        XCTAssertEqual(skipped.map(\.file), [bad])
        XCTAssertEqual(skipped.first?.why, "scrypt parameters N=2^16, r=1 are out of range")
    }

    // When every key file is above the limit the password was never tried: the error says
    // that, not "wrong password"; a higher limit opens the repository.
    func testOnlyKeyAboveTheLimitIsNoUsableKeyUntilTheLimitIsRaised() throws {
        let backend = MemoryBackend()
        var options = cheapOptions()
        options.keyCost = Scrypt.Parameters(n: 1 << 14, r: 8, p: 1)  // 16 MiB
        let created = try makeRepository(on: backend, password: "right", options: options)
        let error = errorThrown { _ = try self.open(backend, password: "right", limits: .init(maxMemory: 8 << 20)) }
        guard case let .noUsableKey(_, skipped)? = error as? RepositoryError else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(skipped.count, 1)
        XCTAssertEqual(skipped.first?.why, "needs 16 MiB for scrypt (N=2^14, r=8), above the 8 MiB limit")
        XCTAssertEqual(try open(backend, password: "right", limits: .init(maxMemory: 17 << 20)).0.keys, created.keys)
    }
}
