import XCTest
import SnapChunker
import SnapCore
import SnapCrypto
import SnapStorage
@testable import SnapRepository

/// Byte-exact vectors for the repository format. Each expected value was written by hand
/// from the layout the code defines (or computed with Python's hmac/hashlib as noted), so
/// any change to the format breaks one of these tests.
final class FormatKnownAnswerTests: XCTestCase {
    private let fixedKeys = MasterKeys(encryption: [UInt8](repeating: 0x01, count: 32),
                                       id: [UInt8](repeating: 0x02, count: 32),
                                       chunker: [UInt8](repeating: 0x03, count: 32))

    // Blob and header nonces: domain byte (0 blob, 1 header), three zero bytes, offset as big-endian u64.
    func testPackNonceLayout() {
        // 00 | 00 00 00 | 00 00 00 00 00 00 01 02  (offset 0x0102 big-endian in the last 8 bytes)
        XCTAssertEqual(PackFormat.nonce(header: false, offset: 0x0102), hex("00 000000 0000000000000102"))
        // Same offset, header domain byte 01.
        XCTAssertEqual(PackFormat.nonce(header: true, offset: 0x0102), hex("01 000000 0000000000000102"))
        // All eight offset bytes are used, most significant first.
        XCTAssertEqual(PackFormat.nonce(header: false, offset: 0x0a0b_0c0d_0e0f_1011), hex("00 000000 0a0b0c0d0e0f1011"))
        XCTAssertEqual(PackFormat.nonce(header: true, offset: 0), hex("01 000000 0000000000000000"))
    }

    // An index file with one pack of one entry (offset 5, length 300, raw length 400) encodes to these bytes and back.
    func testIndexFileEntryEncoding() throws {
        let entry = PackEntry(type: .data, id: BlobID(raw: RawID(bytes: [UInt8](repeating: 0xcc, count: 32))!),
                              offset: 5, length: 300, rawLength: 400)
        let file = IndexFile(packs: [IndexedPack(id: PackID(raw: RawID(bytes: [UInt8](repeating: 0xaa, count: 32))!),
                                                 salt: [UInt8](repeating: 0xbb, count: 24), size: 1000, entries: [entry])])
        // 01 version | 00 no superseded files | 01 one pack
        // aa×32 pack ID | bb×24 salt | e8 07 size 1000 (1000 = 7·128 + 104: 0x68|0x80, then 0x07) | 01 one entry
        // entry: 00 type data | cc×32 blob ID | 05 offset | ac 02 length 300 (2·128 + 44: 0x2c|0x80, 0x02)
        //        | 90 03 raw length 400 (3·128 + 16: 0x10|0x80, 0x03)
        let expected = hex("01 00 01")
            + [UInt8](repeating: 0xaa, count: 32) + [UInt8](repeating: 0xbb, count: 24) + hex("e807 01")
            + hex("00") + [UInt8](repeating: 0xcc, count: 32) + hex("05 ac02 9003")
        XCTAssertEqual(file.encoded(), expected)
        XCTAssertEqual(try IndexFile.decode(expected), file)
        XCTAssertTrue(entry.isCompressed, "300 − 16 tag = 284 stored bytes for 400 plaintext bytes")
    }

    // In memory a row takes 48 bytes (check holds every row of the index): the one-byte
    // type packs behind the lengths. The encoding above does not depend on field order.
    func testPackEntryTakes48BytesInMemory() {
        XCTAssertEqual(MemoryLayout<PackEntry>.stride, 48)
    }

    // A superseded index ID is written right after the version, before the pack count.
    func testIndexFileSupersedesEncoding() throws {
        let old = IndexID(raw: RawID(bytes: [UInt8](repeating: 0x11, count: 32))!)
        // 01 version | 01 one superseded ID | 11×32 | 00 no packs
        let expected = hex("01 01") + [UInt8](repeating: 0x11, count: 32) + hex("00")
        XCTAssertEqual(IndexFile(supersedes: [old], packs: []).encoded(), expected)
        XCTAssertEqual(try IndexFile.decode(expected).supersedes, [old])
    }

    // A pack header plaintext is version 01, entry count, entries, then the zero padding.
    func testPackHeaderPlaintextEncoding() throws {
        let entry = PackEntry(type: .tree, id: BlobID(raw: RawID(bytes: [UInt8](repeating: 0x07, count: 32))!),
                              offset: 0, length: 16, rawLength: 0)
        // 01 version | 01 one entry | 01 type tree | 07×32 ID | 00 offset | 10 length 16 | 00 raw length | 00 00 00 padding
        let expected = hex("01 01 01") + [UInt8](repeating: 0x07, count: 32) + hex("00 10 00 000000")
        XCTAssertEqual(PackFormat.encodeHeader([entry], padding: 3), expected)
        XCTAssertEqual(try PackFormat.decodeHeader(expected), [entry])
        XCTAssertThrowsError(try PackFormat.decodeHeader(Array(expected.dropLast()) + [1]), "non-zero padding is rejected")
    }

    // A one-blob pack is blob ‖ header ‖ salt ‖ u32 LE header length, sealed under HKDF(encryption, salt, "snap pack v1").
    func testPackByteLayout() throws {
        let writer = try PackWriter(type: .data, keys: fixedKeys, file: StagedFile.temporary())
        let id = fixedKeys.blobID(of: Array("hello".utf8))
        try Array("hello".utf8).withUnsafeBytes { try writer.add(id: id, body: $0, rawLength: 5) }
        let finished = try writer.finish(padding: 0)
        let pack = (id: finished.id, salt: finished.salt, bytes: try finished.file.readAll())
        // Blob: 5 bytes + 16 tag = 21. Header plaintext: 01 01 + entry (1 + 32 + 1 + 1 + 1 = 36) = 38, sealed 54 = 0x36.
        XCTAssertEqual(pack.bytes.count, 21 + 54 + 24 + 4)
        XCTAssertEqual(Array(pack.bytes.suffix(4)), hex("36000000"))
        XCTAssertEqual(Array(pack.bytes[75..<99]), pack.salt)
        XCTAssertEqual(pack.id.raw.bytes, SHA256.hash(pack.bytes))
        // Decrypt independently of PackFormat/BlobDecoder, with the subkey and nonces derived by hand.
        let cipher = try AESGCM(key: HKDF.derive(key: fixedKeys.encryption, salt: pack.salt, info: Array("snap pack v1".utf8), length: 32))
        XCTAssertEqual(try cipher.open(Array(pack.bytes[0..<21]), nonce: [UInt8](repeating: 0, count: 12)), Array("hello".utf8))
        let header = try cipher.open(Array(pack.bytes[21..<75]), nonce: hex("01 000000 0000000000000015"))  // header at offset 21
        XCTAssertEqual(header, hex("01 01 00") + id.raw.bytes + hex("00 15 05"))  // offset 0, length 21, raw 5
    }

    // Encrypted files are salt (24) ‖ ciphertext ‖ tag under HKDF(encryption, salt, "snap file v1"), nonce zero, kind name as AAD.
    func testEncryptedFileLayout() throws {
        let sealed = try EncryptedFile.seal(Array("plain".utf8), kind: .snapshots, keys: fixedKeys)
        XCTAssertEqual(sealed.count, 24 + 5 + 16)
        let cipher = try AESGCM(key: HKDF.derive(key: fixedKeys.encryption, salt: Array(sealed[..<24]), info: Array("snap file v1".utf8), length: 32))
        XCTAssertEqual(try cipher.open(Array(sealed[24...]), nonce: [UInt8](repeating: 0, count: 12), aad: Array("snapshots".utf8)),
                       Array("plain".utf8))
        XCTAssertThrowsError(try cipher.open(Array(sealed[24...]), nonce: [UInt8](repeating: 0, count: 12), aad: Array("index".utf8)))
    }

    // Blob IDs are HMAC-SHA256 under the ID key:
    // python3 -c 'import hmac,hashlib;print(hmac.new(bytes([2]*32),b"abc",hashlib.sha256).hexdigest())'
    func testBlobIDIsHMACSHA256() {
        XCTAssertEqual(fixedKeys.blobID(of: Array("abc".utf8)).hex,
                       "473545e29298b84ec7fad7ed5c87d2b7c5838674461a63693c287130e8a38304")
    }

    // The per-thread hasher the backup and decoders use gives the same IDs, also when it
    // is used again after another blob.
    func testBlobIDHasherGivesTheSameIDs() {
        let hasher = BlobIDHasher(keys: fixedKeys)
        XCTAssertEqual(hasher.id(of: Array("abc".utf8)).hex, "473545e29298b84ec7fad7ed5c87d2b7c5838674461a63693c287130e8a38304")
        for blob in [[], Array("hello".utf8), [UInt8](repeating: 9, count: 100_000), Array("abc".utf8)] {
            XCTAssertEqual(hasher.id(of: blob), fixedKeys.blobID(of: blob), "\(blob.count) bytes")
        }
    }

    // The gear table is HKDF-SHA256(ikm = chunker key, salt = 32 zero bytes, info "snap gear table v1", L = 2048) as LE u64s.
    // Computed with: prk = hmac(bytes(32), bytes([3]*32)); T(i) = hmac(prk, T(i-1) + info + bytes([i])); okm = T(1)‖…‖T(64);
    // then struct.unpack("<Q", okm[8k:8k+8]) for k = 0, 1 and 255.
    func testGearTableDerivation() {
        let gear = fixedKeys.gearTable().values
        XCTAssertEqual(gear.count, 256)
        XCTAssertEqual(gear[0], 0x60a9_31e5_17f0_e28c)
        XCTAssertEqual(gear[1], 0x252e_df81_b75d_f4cf)
        XCTAssertEqual(gear[255], 0x6321_3e90_c076_ab50)
    }
}
