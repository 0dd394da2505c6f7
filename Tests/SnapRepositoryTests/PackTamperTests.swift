import XCTest
import SnapCore
import SnapCrypto
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

final class PackTamperTests: XCTestCase {
    private struct SmallPack {
        let backend: MemoryBackend
        let repository: Repository
        let file: FileName
        let pack: PackID
        let size: Int
        let plaintexts: [[UInt8]]
        let ids: [BlobID]
    }

    /// One data pack holding a compressible blob, a random one, a one-byte one and an empty one.
    private func makeSmallPack() throws -> SmallPack {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend)
        let plaintexts = [compressibleBytes(count: 400), seededBytes(count: 150, seed: 11), [0x5a], []]
        let ids = try saveAndFinish(repository, plaintexts.map { (.data, $0) })
        let info = try XCTUnwrap(try backend.list(.data).first)
        XCTAssertEqual(try backend.list(.data).count, 1)
        XCTAssertTrue(try XCTUnwrap(repository.index.lookup(ids[0])).entry.isCompressed)
        XCTAssertFalse(try XCTUnwrap(repository.index.lookup(ids[1])).entry.isCompressed)
        return SmallPack(backend: backend, repository: repository, file: info.file, pack: try XCTUnwrap(PackID(hex: info.file.name)),
                         size: info.size, plaintexts: plaintexts, ids: ids)
    }

    // A flip inside a blob, in the padding or in the header is reported as the pack's bytes not
    // matching its name, whether the pack is read whole or in small pieces.
    func testDamageIsReportedAsAMismatchWithTheName() throws {
        let p = try makeSmallPack()
        for position in [3, p.size - PackFormat.trailerLength - 20, p.size - 2] {
            flipBit(p.backend, p.file, at: position)
            for pieceSize in [4 << 20, 5] {
                XCTAssertThrowsError(try p.repository.verifyPack(p.pack, pieceSize: pieceSize)) { error in
                    XCTAssertTrue("\(error)".contains("content does not match its name"), "byte \(position), pieces of \(pieceSize): \(error)")
                }
            }
            flipBit(p.backend, p.file, at: position)
        }
    }

    // Flipping any one bit anywhere in a pack never yields different plaintext or header; verifyPack
    // always reports it, and outside the random padding before the header some read fails on its own.
    func testEveryBitFlipInAPackIsDetected() throws {
        let p = try makeSmallPack()
        let original = try PackFormat.readHeader(of: p.pack, size: p.size, from: p.backend, keys: p.repository.keys)
        let decoder = try BlobDecoder(keys: p.repository.keys)
        for n in p.ids.indices { XCTAssertEqual(try p.repository.loadBlob(p.ids[n], decoder: decoder), p.plaintexts[n]) }
        XCTAssertEqual(try p.repository.verifyPack(p.pack).entries, original.entries)
        XCTAssertEqual(try p.repository.verifyPack(p.pack, pieceSize: 7).entries, original.entries, "read in pieces cut at blob ends")
        // Bytes no entry covers: the padding between the last blob and the header.
        let blobsEnd = original.entries.map { Int($0.offset) + Int($0.length) }.max() ?? 0
        let headerLength = try p.backend.read(p.file, range: (p.size - 4)..<p.size).reversed().reduce(0) { $0 << 8 | Int($1) }
        let padding = blobsEnd..<(p.size - PackFormat.trailerLength - headerLength)

        var undetected: [Int] = []
        var unverified: [Int] = []
        var wrongData: [Int] = []
        for position in 0..<p.size {
            flipBit(p.backend, p.file, at: position)
            if (try? p.repository.verifyPack(p.pack)) != nil { unverified.append(position) }
            if (try? p.repository.verifyPack(p.pack, size: p.size, pieceSize: 7)) != nil { unverified.append(position) }
            var failures = 0
            do {
                let header = try PackFormat.readHeader(of: p.pack, size: p.size, from: p.backend, keys: p.repository.keys)
                if header.salt != original.salt || header.entries != original.entries { wrongData.append(position) }
            } catch {
                failures += 1
            }
            for n in p.ids.indices {
                do {
                    if try p.repository.loadBlob(p.ids[n], decoder: decoder) != p.plaintexts[n] { wrongData.append(position) }
                } catch {
                    failures += 1
                }
            }
            if failures == 0 && !padding.contains(position) { undetected.append(position) }
            flipBit(p.backend, p.file, at: position)
        }
        XCTAssertEqual(unverified, [], "positions where verifyPack accepted a flipped pack")
        XCTAssertEqual(wrongData, [], "positions where a flip produced different bytes")
        XCTAssertEqual(undetected, [], "positions where a flip went unnoticed")
        XCTAssertEqual(try p.backend.read(p.file).count, p.size)
        XCTAssertEqual(try p.repository.loadBlob(p.ids[1]), p.plaintexts[1], "every flip was undone")
    }

    // A truncated pack fails its header read; blobs wholly before the cut still load correctly, the others fail.
    func testTruncatedPackFailsCleanly() throws {
        let p = try makeSmallPack()
        let full = try p.backend.read(p.file)
        for length in [0, 1, 16, PackFormat.trailerLength, PackFormat.trailerLength + 16, p.size / 2, p.size - 4, p.size - 1] {
            try p.backend.write(p.file, data: Array(full[..<length]))
            XCTAssertNotNil(errorThrown { _ = try PackFormat.readHeader(of: p.pack, size: length, from: p.backend, keys: p.repository.keys) },
                            "header of a pack cut to \(length) bytes")
            XCTAssertNotNil(errorThrown { _ = try PackFormat.readHeader(of: p.pack, size: p.size, from: p.backend, keys: p.repository.keys) },
                            "header read with the old size of a pack cut to \(length) bytes")
            for n in p.ids.indices {
                let entry = try XCTUnwrap(p.repository.index.lookup(p.ids[n])).entry
                let fits = Int(entry.offset) + Int(entry.length) <= length
                do {
                    let blob = try p.repository.loadBlob(p.ids[n])
                    XCTAssertEqual(blob, p.plaintexts[n], "blob \(n) from a pack cut to \(length) bytes")
                    XCTAssertTrue(fits, "blob \(n) loaded from a pack cut to \(length) bytes")
                } catch {
                    XCTAssertFalse(fits, "blob \(n) before the cut at \(length) failed: \(error)")
                }
            }
        }
    }

    // FORMAT.md lets a header list its blobs in any order (snap writes them in file order):
    // verifyPack still reads the pack in order, piece by piece, and checks every blob.
    func testHeaderListingBlobsOutOfOrderIsVerified() throws {
        let p = try makeSmallPack()
        let bytes = try p.backend.read(p.file)
        let header = try PackFormat.readHeader(of: p.pack, size: p.size, from: p.backend, keys: p.repository.keys)
        let trailer = Array(bytes.suffix(PackFormat.trailerLength))
        let oldHeaderLength = Int(trailer[PackFormat.saltLength...].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        let headerOffset = p.size - PackFormat.trailerLength - oldHeaderLength
        let shuffled = [header.entries[2], header.entries[0], header.entries[3], header.entries[1]]
        let sealed = try AESGCM(key: p.repository.keys.subkey(salt: header.salt, purpose: .pack))
            .seal(PackFormat.encodeHeader(shuffled, padding: 0), nonce: PackFormat.nonce(header: true, offset: headerOffset))
        XCTAssertEqual(sealed.count, oldHeaderLength, "same entries, same header length")
        let rewritten = Array(bytes[..<headerOffset]) + sealed + trailer
        let pack = try XCTUnwrap(PackID(raw: XCTUnwrap(RawID(bytes: SHA256.hash(rewritten)))))
        try p.backend.write(FileName(.data, pack.hex), data: rewritten)

        for pieceSize in [1, 7, 200, 2 << 20] {
            let verified = try p.repository.verifyPack(pack, pieceSize: pieceSize)
            XCTAssertEqual(verified.entries, shuffled, "piece size \(pieceSize)")
            XCTAssertEqual(verified.salt, header.salt)
        }
        // Each blob is still authenticated: one flipped in place (and the pack renamed to
        // its new hash, as an attacker with write access could) is found.
        for entry in shuffled where entry.length > 16 {
            var damaged = rewritten
            damaged[Int(entry.offset)] ^= 1
            let renamed = try XCTUnwrap(PackID(raw: XCTUnwrap(RawID(bytes: SHA256.hash(damaged)))))
            try p.backend.write(FileName(.data, renamed.hex), data: damaged)
            XCTAssertThrowsError(try p.repository.verifyPack(renamed, pieceSize: 7), "blob at \(entry.offset)")
        }
    }

    // Index entries with a wrong offset, length or plaintext length give errors (never a crash, never data).
    func testWrongEntryGeometryIsAnError() throws {
        let p = try makeSmallPack()
        let good = try XCTUnwrap(p.repository.index.lookup(p.ids[1]))
        let compressed = try XCTUnwrap(p.repository.index.lookup(p.ids[0]))
        func variant(_ base: BlobLocation, offset: UInt32? = nil, length: UInt32? = nil, rawLength: UInt32? = nil) -> PackEntry {
            PackEntry(type: .data, id: base.entry.id, offset: offset ?? base.entry.offset,
                      length: length ?? base.entry.length, rawLength: rawLength ?? base.entry.rawLength)
        }
        let cases: [(String, PackEntry)] = [
            ("length one short", variant(good, length: good.entry.length - 1)),
            ("length one long", variant(good, length: good.entry.length + 1)),
            ("length below a tag", variant(good, length: 15)),
            ("length near 2^32", variant(good, length: UInt32.max)),
            ("offset one later", variant(good, offset: good.entry.offset + 1)),
            ("offset past the end", variant(good, offset: UInt32(p.size + 10))),
            ("offset near 2^32", variant(good, offset: UInt32.max - 4)),
            ("raw length of a stored blob changed", variant(good, rawLength: good.entry.rawLength + 1)),
            ("raw length of a compressed blob changed", variant(compressed, rawLength: compressed.entry.rawLength - 1)),
        ]
        for (name, entry) in cases {
            // A fresh open has an empty index, so the fabricated entry is the only one for this ID.
            let reader = try Repository.open(backend: p.backend, password: "correct horse")
            reader.index.add(IndexedPack(id: p.pack, salt: good.salt, size: p.size, entries: [entry]))
            XCTAssertNotNil(errorThrown { _ = try reader.loadBlob(entry.id) }, name)
        }
    }
}
