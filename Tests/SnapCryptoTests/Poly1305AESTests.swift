import XCTest
import SnapCrypto

/// Known answers for Poly1305-AES: the four examples of appendix B of D. J. Bernstein,
/// "The Poly1305-AES message-authentication code" (2005), with the intermediate AES_k(n).
final class Poly1305AESTests: XCTestCase {
    private struct Vector {
        let message: String, k: String, r: String, nonce: String, aes: String, tag: String
    }

    private let vectors = [
        Vector(message: "f3 f6",
               k: "ec 07 4c 83 55 80 74 17 01 42 5b 62 32 35 ad d6",
               r: "85 1f c4 0c 34 67 ac 0b e0 5c c2 04 04 f3 f7 00",
               nonce: "fb 44 73 50 c4 e8 68 c5 2a c3 27 5c f9 d4 32 7e",
               aes: "58 0b 3b 0f 94 47 bb 1e 69 d0 95 b5 92 8b 6d bc",
               tag: "f4 c6 33 c3 04 4f c1 45 f8 4f 33 5c b8 19 53 de"),
        Vector(message: "",
               k: "75 de aa 25 c0 9f 20 8e 1d c4 ce 6b 5c ad 3f bf",
               r: "a0 f3 08 00 00 f4 64 00 d0 c7 e9 07 6c 83 44 03",
               nonce: "61 ee 09 21 8d 29 b0 aa ed 7e 15 4a 2c 55 09 cc",
               aes: "dd 3f ab 22 51 f1 1a c7 59 f0 88 71 29 cc 2e e7",
               tag: "dd 3f ab 22 51 f1 1a c7 59 f0 88 71 29 cc 2e e7"),
        Vector(message: "66 3c ea 19 0f fb 83 d8 95 93 f3 f4 76 b6 bc 24 d7 e6 79 10 7e a2 6a db 8c af 66 52 d0 65 61 36",
               k: "6a cb 5f 61 a7 17 6d d3 20 c5 c1 eb 2e dc dc 74",
               r: "48 44 3d 0b b0 d2 11 09 c8 9a 10 0b 5c e2 c2 08",
               nonce: "ae 21 2a 55 39 97 29 59 5d ea 45 8b c6 21 ff 0e",
               aes: "83 14 9c 69 b5 61 dd 88 29 8a 17 98 b1 07 16 ef",
               tag: "0e e1 c1 6b b7 3f 0f 4f d1 98 81 75 3c 01 cd be"),
        Vector(message: """
                   ab 08 12 72 4a 7f 1e 34 27 42 cb ed 37 4d 94 d1 36 c6 b8 79 5d 45 b3 81 98 30 f2 c0 44 91 fa f0
                   99 0c 62 e4 8b 80 18 b2 c3 e4 a0 fa 31 34 cb 67 fa 83 e1 58 c9 94 d9 61 c4 cb 21 09 5c 1b f9
                   """,
               k: "e1 a5 66 8a 4d 5b 66 a5 f6 8c c5 42 4e d5 98 2d",
               r: "12 97 6a 08 c4 42 6d 0c e8 a8 24 07 c4 f4 82 07",
               nonce: "9a e8 31 e7 43 97 8d 3a 23 52 7c 71 28 14 9e 3a",
               aes: "80 f8 c2 0a a7 12 02 d1 e2 91 79 cb cb 55 5a 57",
               tag: "51 54 ad 0d 2c b2 6e 01 27 4f c5 11 48 49 1f 1b"),
    ]

    // AES-128 of the nonce under k is the paper's AES_k(n) for every example.
    func testPadIsAES128OfTheNonce() throws {
        for (i, v) in vectors.enumerated() {
            XCTAssertEqual(try AESBlock.encrypt128(hexBytes(v.nonce), key: hexBytes(v.k)), hexBytes(v.aes), "example \(i + 1)")
        }
    }

    // Poly1305-AES gives the paper's tag for every example, and verify accepts it.
    func testTagsMatchThePaper() throws {
        for (i, v) in vectors.enumerated() {
            let mac = try Poly1305AES(k: hexBytes(v.k), r: hexBytes(v.r))
            let message = hexBytes(v.message)
            XCTAssertEqual(try mac.tag(message, nonce: hexBytes(v.nonce)), hexBytes(v.tag), "example \(i + 1)")
            XCTAssertTrue(try message.withUnsafeBytes { try mac.verify($0, nonce: hexBytes(v.nonce), tag: hexBytes(v.tag)) })
        }
    }

    // A flipped bit in the message, the nonce or the tag fails verification.
    func testAnyFlippedBitFailsVerification() throws {
        let v = vectors[2]
        let mac = try Poly1305AES(k: hexBytes(v.k), r: hexBytes(v.r))
        let message = hexBytes(v.message), nonce = hexBytes(v.nonce), tag = hexBytes(v.tag)
        for bit in 0..<(message.count * 8) {
            var damaged = message
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            XCTAssertFalse(try damaged.withUnsafeBytes { try mac.verify($0, nonce: nonce, tag: tag) }, "message bit \(bit)")
        }
        for bit in 0..<128 {
            var badNonce = nonce, badTag = tag
            badNonce[bit / 8] ^= 1 << UInt8(bit % 8)
            badTag[bit / 8] ^= 1 << UInt8(bit % 8)
            XCTAssertFalse(try message.withUnsafeBytes { try mac.verify($0, nonce: badNonce, tag: tag) }, "nonce bit \(bit)")
            XCTAssertFalse(try message.withUnsafeBytes { try mac.verify($0, nonce: nonce, tag: badTag) }, "tag bit \(bit)")
        }
    }

    // Plain Poly1305 with a given r || s: RFC 8439 section 2.5.2.
    func testPoly1305MatchesRFC8439() throws {
        let key = hexBytes("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
        XCTAssertEqual(try Poly1305.authenticate(ascii("Cryptographic Forum Research Group"), key: key),
                       hexBytes("a8061dc1305136c6c22b8baf0c0127a9"))
    }

    // Keys and nonces of the wrong length are refused with a typed error.
    func testWrongLengthsAreRefused() throws {
        XCTAssertThrowsError(try Poly1305AES(k: [UInt8](repeating: 1, count: 15), r: [UInt8](repeating: 1, count: 16)))
        XCTAssertThrowsError(try Poly1305.authenticate([1, 2], key: [UInt8](repeating: 1, count: 31)))
        let mac = try Poly1305AES(k: [UInt8](repeating: 1, count: 16), r: [UInt8](repeating: 1, count: 16))
        XCTAssertThrowsError(try mac.tag([1], nonce: [UInt8](repeating: 0, count: 12))) { error in
            XCTAssertEqual(error as? CryptoError, .invalidLength(what: "Poly1305-AES nonce", expected: 16, actual: 12))
        }
    }
}
