import XCTest
import SnapCore
import SnapCrypto
import SnapStorage
@testable import SnapRepository

final class KeyFileTamperTests: XCTestCase {
    private func isRejection(_ error: Error?) -> Bool {
        switch error as? RepositoryError {
        case .wrongPassword?, .noUsableKey?, .damaged?: return true
        default: return false
        }
    }

    // Any flipped bit in the only key file makes open fail with wrongPassword or damaged; it never returns a repository.
    func testEveryBitFlipInAKeyFileFailsOpen() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        let file = try XCTUnwrap(try backend.list(.keys).first).file
        let size = try backend.read(file).count
        var missed: [Int] = []
        for position in 0..<size {
            flipBit(backend, file, at: position)
            if !isRejection(errorThrown { _ = try Repository.open(backend: backend, password: "pw") }) { missed.append(position) }
            flipBit(backend, file, at: position)
        }
        XCTAssertEqual(missed, [])
        XCTAssertNoThrow(try Repository.open(backend: backend, password: "pw"))
    }

    // Even renamed to its new SHA-256, an altered key file never unlocks to different master keys.
    func testRenamedAlteredKeyFileNeverYieldsOtherKeys() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend, password: "pw")
        let file = try XCTUnwrap(try backend.list(.keys).first).file
        let original = try backend.read(file)
        try backend.delete(file)
        var wrongKeys: [Int] = []
        var opened = 0
        for position in original.indices {
            var altered = original
            altered[position] ^= UInt8(1) << UInt8(position % 8)
            let renamed = FileName(.keys, Hex.encode(SHA256.hash(altered)))
            try backend.write(renamed, data: altered)
            if let reopened = try? Repository.open(backend: backend, password: "pw") {
                opened += 1
                if reopened.keys != repository.keys { wrongKeys.append(position) }
            }
            try backend.delete(renamed)
        }
        XCTAssertEqual(wrongKeys, [])
        // Only the descriptive fields (created, hostname, username) are outside the sealed payload.
        let decoded = try KeyFile.decode(original, name: file.name)
        let descriptive = decoded.created.utf8.count + decoded.hostname.utf8.count + decoded.username.utf8.count
        XCTAssertLessThanOrEqual(opened, descriptive, "only flips inside the descriptive strings may still open")
    }

    // A damaged key file does not hide a good one: open still succeeds through the other key file.
    func testDamagedKeyFileDoesNotBlockAnotherKey() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend, password: "pw")
        _ = try repository.addKey(password: "pw", cost: cheapKeyCost, hostname: "h", username: "u", now: "2025-03-03T00:00:00Z")
        let files = try backend.list(.keys).map(\.file).sorted { $0.name < $1.name }
        XCTAssertEqual(files.count, 2)
        for damaged in files {
            backend.tamper(damaged) { $0[$0.count / 2] ^= 0x01 }
            XCTAssertEqual(try Repository.open(backend: backend, password: "pw").keys, repository.keys)
            backend.tamper(damaged) { $0[$0.count / 2] ^= 0x01 }
        }
        for damaged in files { backend.tamper(damaged) { $0[$0.count / 2] ^= 0x01 } }
        let error = errorThrown { _ = try Repository.open(backend: backend, password: "pw") }
        guard case let .noUsableKey(_, skipped)? = error as? RepositoryError else {
            return XCTFail("with every key file damaged, open reports unusable keys rather than a wrong password: \(String(describing: error))")
        }
        XCTAssertEqual(skipped.map(\.file), files)
        XCTAssertTrue(skipped.allSatisfy { $0.why == "damaged: content does not match its name" }, "\(skipped)")
    }

    // A file in keys/ whose name is no key ID is skipped with what to do about it, and
    // `key remove NAME` (its whole name) removes it; a key ID's file is never taken so.
    func testFileThatIsNoKeyIDSaysToDeleteIt() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend, password: "pw")
        try backend.write(FileName(.keys, "notes.txt"), data: Array("hello".utf8))
        var skipped: [SkippedKey] = []
        XCTAssertEqual(try Repository.open(backend: backend, password: "pw", keySkipped: { skipped.append($0) }).keys, repository.keys)
        XCTAssertEqual(skipped.map(\.file.name), ["notes.txt"])
        XCTAssertTrue(skipped.first?.why.contains("its name is not a key ID); remove it with 'snap key remove notes.txt'") ?? false, "\(skipped)")
        XCTAssertTrue(skipped.first?.description.hasPrefix("keys/notes.txt skipped") ?? false, "named in full: \(skipped)")
        XCTAssertFalse(try repository.removeStrayKeyFile(named: "notes"), "the whole name only")
        XCTAssertFalse(try repository.removeStrayKeyFile(named: try XCTUnwrap(repository.keyID?.hex)), "a key is removed by removeKey's rules")
        XCTAssertTrue(try repository.removeStrayKeyFile(named: "notes.txt"))
        XCTAssertEqual(try backend.list(.keys).map(\.file.name), [try XCTUnwrap(repository.keyID?.hex)])
    }
}
