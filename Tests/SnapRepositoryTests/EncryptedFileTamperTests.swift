import XCTest
import SnapCore
import SnapCrypto
import SnapStorage
@testable import SnapRepository

final class EncryptedFileTamperTests: XCTestCase {
    /// For every bit flip (bit `position % 8` of each byte): `load` must fail with `damaged` both for the
    /// file in place and for the altered bytes stored under their own new SHA-256 name (so the
    /// name check alone cannot be what catches it: the GCM tag must).
    private func assertEveryFlipIsDamage(_ backend: MemoryBackend, _ file: FileName,
                                         load: (FileName) throws -> [UInt8], line: UInt = #line) throws {
        let original = try backend.read(file)
        var missed: [Int] = []
        for position in original.indices {
            flipBit(backend, file, at: position)
            if !isDamaged(errorThrown { _ = try load(file) }) { missed.append(position) }
            let altered = try backend.read(file)
            flipBit(backend, file, at: position)

            let renamed = FileName(file.kind, Hex.encode(SHA256.hash(altered)))
            try backend.write(renamed, data: altered)
            if !isDamaged(errorThrown { _ = try load(renamed) }) { missed.append(-position - 1) }
            try backend.delete(renamed)
        }
        XCTAssertEqual(missed, [], "flips not reported as damage (negative: renamed copy of position -n-1)", line: line)
        XCTAssertEqual(try backend.read(file), original, line: line)
    }

    // Any flipped bit in an index file makes loadIndexFile throw damaged.
    func testEveryBitFlipInAnIndexFileIsDamage() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend)
        try saveAndFinish(repository, [(.data, [1]), (.data, compressibleBytes(count: 900))])
        let file = try XCTUnwrap(try backend.list(.index).first).file
        XCTAssertNoThrow(try repository.loadIndexFile(try XCTUnwrap(IndexID(hex: file.name))))
        try assertEveryFlipIsDamage(backend, file) { name in
            try repository.loadIndexFile(try XCTUnwrap(IndexID(hex: name.name))).encoded()
        }
    }

    // Any flipped bit in a file saved with saveFile(.snapshots, …) makes loadFile throw damaged.
    func testEveryBitFlipInASnapshotFileIsDamage() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend)
        let plaintext = Array("{\"hostname\":\"h\",\"paths\":[\"/home\"],\"time\":\"2025-01-01T00:00:00Z\"}".utf8)
        let id = try repository.saveFile(.snapshots, plaintext: plaintext)
        let file = FileName(.snapshots, id.hex)
        XCTAssertEqual(try repository.loadFile(file), plaintext)
        try assertEveryFlipIsDamage(backend, file) { try repository.loadFile($0) }
    }

    // Any flipped bit in config makes Repository.open throw damaged; it never opens with altered parameters.
    func testEveryBitFlipInConfigFailsOpen() throws {
        let backend = MemoryBackend()
        try makeRepository(on: backend, password: "pw")
        let size = try backend.read(.config).count
        var missed: [Int] = []
        for position in 0..<size {
            flipBit(backend, .config, at: position)
            if !isDamaged(errorThrown { _ = try Repository.open(backend: backend, password: "pw") }) { missed.append(position) }
            flipBit(backend, .config, at: position)
        }
        XCTAssertEqual(missed, [])
        XCTAssertNoThrow(try Repository.open(backend: backend, password: "pw"))
    }

    // The folder is authenticated: an index file's bytes moved to snapshots (or config's bytes to index) do not open.
    func testFilesCannotChangeKind() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend)
        try saveAndFinish(repository, [(.data, [7])])
        let index = try XCTUnwrap(try backend.list(.index).first).file
        let indexBytes = try backend.read(index)
        let moved = FileName(.snapshots, index.name)
        try backend.write(moved, data: indexBytes)
        XCTAssertTrue(isDamaged(errorThrown { _ = try repository.loadFile(moved) }))
        XCTAssertNoThrow(try repository.loadFile(index))

        let configBytes = try backend.read(.config)
        let asIndex = FileName(.index, Hex.encode(SHA256.hash(configBytes)))
        try backend.write(asIndex, data: configBytes)
        XCTAssertTrue(isDamaged(errorThrown { _ = try repository.loadFile(asIndex) }))
        var skipped: [(IndexID, Error)] = []
        XCTAssertNoThrow(try repository.loadIndex { skipped.append(($0, $1)) }, "a damaged index file is skipped, not fatal")
        XCTAssertEqual(skipped.map(\.0.hex), [asIndex.name], "loadIndex reports the foreign file")
        XCTAssertTrue(skipped.allSatisfy { isDamaged($0.1) })
    }

    // A file of another repository (other keys) is damage, not garbage plaintext; so is a file shorter than the envelope.
    func testForeignAndShortFilesAreDamage() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend)
        let other = try makeRepository()
        let id = try other.saveFile(.snapshots, plaintext: [1, 2, 3])
        try backend.write(FileName(.snapshots, id.hex), data: try other.backend.read(FileName(.snapshots, id.hex)))
        XCTAssertTrue(isDamaged(errorThrown { _ = try repository.loadFile(FileName(.snapshots, id.hex)) }))
        for length in [0, 1, 39] {
            let bytes = [UInt8](repeating: 0, count: length)
            let file = FileName(.snapshots, Hex.encode(SHA256.hash(bytes)))
            try backend.write(file, data: bytes)
            XCTAssertTrue(isDamaged(errorThrown { _ = try repository.loadFile(file) }), "\(length) bytes")
        }
    }
}
