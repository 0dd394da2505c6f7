import XCTest
import SnapCrypto

final class HKDFTests: XCTestCase {
    // RFC 5869 test case 1: basic SHA-256 derivation with salt and info, 42 bytes.
    func testRFC5869Case1() {
        let okm = HKDF.derive(key: [UInt8](repeating: 0x0b, count: 22),
                              salt: hexBytes("000102030405060708090a0b0c"),
                              info: hexBytes("f0f1f2f3f4f5f6f7f8f9"),
                              length: 42)
        XCTAssertEqual(okm, hexBytes("""
            3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf
            34007208d5b887185865
            """))
    }

    // RFC 5869 test case 3: empty salt (treated as 32 zero bytes) and empty info.
    func testRFC5869Case3() {
        let okm = HKDF.derive(key: [UInt8](repeating: 0x0b, count: 22), salt: [], info: [], length: 42)
        XCTAssertEqual(okm, hexBytes("""
            8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d
            9d201395faa4b61a96c8
            """))
    }

    // A shorter output is a prefix of a longer one with the same inputs (same T(1), T(2), ...).
    func testShorterOutputIsPrefix() {
        let ikm = ascii("input keying material")
        let long = HKDF.derive(key: ikm, salt: ascii("salt"), info: ascii("info"), length: 100)
        let short = HKDF.derive(key: ikm, salt: ascii("salt"), info: ascii("info"), length: 33)
        XCTAssertEqual(long.count, 100)
        XCTAssertEqual(Array(long.prefix(33)), short)
    }

    // Different info strings give independent keys.
    func testInfoSeparatesKeys() {
        let ikm = ascii("input keying material")
        XCTAssertNotEqual(HKDF.derive(key: ikm, salt: [], info: ascii("a"), length: 32),
                          HKDF.derive(key: ikm, salt: [], info: ascii("b"), length: 32))
    }
}
