import XCTest
import SnapCrypto

final class AESCTRTests: XCTestCase {
    // NIST SP 800-38A, F.5.5 CTR-AES256.Encrypt, all four blocks.
    func testNISTVector() throws {
        let ctr = try AESCTR(key: hexBytes("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"))
        let iv = hexBytes("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
        let plaintext = hexBytes("""
            6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
            30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710
            """)
        let ciphertext = hexBytes("""
            601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5
            2b0930daa23de94ce87017ba2d84988d dfc9c58db67aada613c2dd08457941a6
            """)
        XCTAssertEqual(try ctr.apply(plaintext, iv: iv), ciphertext)
        XCTAssertEqual(try ctr.apply(ciphertext, iv: iv), plaintext)
        // A partial last block is the prefix of the full one.
        XCTAssertEqual(try ctr.apply(Array(plaintext.prefix(21)), iv: iv), Array(ciphertext.prefix(21)))
    }

    // The counter is one 128-bit number: a carry out of the low 64 bits reaches the high half.
    func testCounterCarriesAcrossAllSixteenBytes() throws {
        let ctr = try AESCTR(key: [UInt8](repeating: 7, count: 32))
        let zeros = [UInt8](repeating: 0, count: 32)
        let beforeCarry = try ctr.apply(zeros, iv: [UInt8](repeating: 0, count: 7) + [1] + [UInt8](repeating: 0xff, count: 8))
        let afterCarry = try ctr.apply(Array(zeros.prefix(16)), iv: [UInt8](repeating: 0, count: 7) + [2] + [UInt8](repeating: 0, count: 8))
        XCTAssertEqual(Array(beforeCarry.suffix(16)), afterCarry)
    }

    // FIPS-197 appendix C.1: AES-128 of one block.
    func testAES128Block() throws {
        XCTAssertEqual(try AESBlock.encrypt128(hexBytes("00112233445566778899aabbccddeeff"), key: hexBytes("000102030405060708090a0b0c0d0e0f")),
                       hexBytes("69c4e0d86a7b0430d8cdb78070b4c55a"))
    }

    func testEmptyInputAndWrongLengths() throws {
        let ctr = try AESCTR(key: [UInt8](repeating: 1, count: 32))
        XCTAssertEqual(try ctr.apply([], iv: [UInt8](repeating: 0, count: 16)), [])
        XCTAssertThrowsError(try ctr.apply([1], iv: [UInt8](repeating: 0, count: 12)))
        XCTAssertThrowsError(try AESCTR(key: [UInt8](repeating: 1, count: 16)))
    }
}
