import XCTest
import SnapCore
import SnapCrypto
@testable import SnapRestic
import SnapStorage

/// restic's rules for merging index files (`doc/design.rst`, "Indexing"), on index files
/// planted beside a real restic repository's: a file another one supersedes is skipped,
/// and a blob listed more than once is where the first file in name order, and the first
/// entry in it, puts it.
final class ResticIndexMergeTests: XCTestCase {
    private func id(_ n: UInt8) -> String { Hex.encode([UInt8](repeating: n, count: 32)) }
    private func blobID(_ n: UInt8) throws -> ResticBlobID { try XCTUnwrap(ResticBlobID(hex: id(n))) }
    private func packID(_ n: UInt8) throws -> ResticPackID { try XCTUnwrap(ResticPackID(hex: id(n))) }

    private func blob(_ n: UInt8, offset: Int, length: Int = 60, uncompressed: Int? = nil) -> String {
        let extra = uncompressed.map { #","uncompressed_length":\#($0)"# } ?? ""
        return #"{"id":"\#(id(n))","type":"data","offset":\#(offset),"length":\#(length)\#(extra)}"#
    }

    /// Seals `json` as restic does, stores it under its hash, and returns the name.
    private func plant(_ json: String, in fixture: ResticFixture, key: ResticCipherKey) throws -> String {
        let sealed = try resticSeal(Array(json.utf8), key: key)
        let name = Hex.encode(SHA256.hash(sealed))
        try fixture.backend().write(FileName(.index, name), data: sealed)
        return name
    }

    func testSupersededFilesAreSkippedAndTheFirstListingWins() throws {
        try XCTSkipIf(ResticFixture.restic == nil, "restic is not installed (scripts/install-deps.sh installs it)")
        let fixture = try ResticFixture(version: nil)
        try fixture.write("a.bin", pseudoRandomBytes(count: 50_000, seed: 4))
        _ = try fixture.backup(host: "h", tags: [])
        let key = try fixture.masterKey()
        let before = try ResticRepository(backend: fixture.backend(), password: ResticFixture.password).index

        // Blob 0xA1 in two files; blob 0xA2 twice in one file; blob 0xA3 in a file that a later one supersedes.
        let first = try plant(#"{"packs":[{"id":"\#(id(0xB1))","blobs":[\#(blob(0xA1, offset: 100)),\#(blob(0xA2, offset: 200, uncompressed: 500))]},"#
                              + #"{"id":"\#(id(0xB2))","blobs":[\#(blob(0xA2, offset: 0))]}]}"#, in: fixture, key: key)
        let second = try plant(#"{"packs":[{"id":"\#(id(0xB3))","blobs":[\#(blob(0xA1, offset: 300, length: 90))]}]}"#, in: fixture, key: key)
        let old = try plant(#"{"packs":[{"id":"\#(id(0xB4))","blobs":[\#(blob(0xA3, offset: 400))]}]}"#, in: fixture, key: key)
        _ = try plant(#"{"supersedes":["\#(old)"],"packs":[{"id":"\#(id(0xB5))","blobs":[\#(blob(0xA3, offset: 7))]}]}"#,
                      in: fixture, key: key)

        let index = try ResticRepository(backend: fixture.backend(), password: ResticFixture.password).index
        XCTAssertEqual(index.count, before.count + 3)
        XCTAssertEqual(index.filesRead, before.filesRead + 3)
        XCTAssertEqual(index.filesSuperseded, before.filesSuperseded + 1)

        let a1 = try XCTUnwrap(index.location(of: try blobID(0xA1)))
        let firstWins = first < second
        XCTAssertEqual(a1.pack, try packID(firstWins ? 0xB1 : 0xB3))
        XCTAssertEqual([a1.offset, a1.length], firstWins ? [100, 60] : [300, 90])
        let a2 = try XCTUnwrap(index.location(of: try blobID(0xA2)))
        XCTAssertEqual(a2.pack, try packID(0xB1), "the first entry of the file")
        XCTAssertEqual([a2.offset, a2.length], [200, 60])
        XCTAssertEqual(a2.uncompressedLength, 500)
        XCTAssertEqual(a2.type, .data)
        let a3 = try XCTUnwrap(index.location(of: try blobID(0xA3)))
        XCTAssertEqual(a3.pack, try packID(0xB5), "the superseded file is not read")
        XCTAssertNil(a3.uncompressedLength)
        XCTAssertNil(index.dataEnd(of: try packID(0xB4)), "only the superseded file names that pack")
        XCTAssertEqual(index.dataEnd(of: try packID(0xB1)), 260)
        XCTAssertNil(index.location(of: try blobID(0xA4)))
    }
}
