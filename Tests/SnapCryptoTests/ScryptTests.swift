import XCTest
import SnapCrypto

final class ScryptTests: XCTestCase {
    // RFC 7914 section 12, first vector: empty password and salt, N=16, r=1, p=1.
    func testRFC7914EmptyPassword() throws {
        let key = try Scrypt.derive(password: [], salt: [], parameters: .init(n: 16, r: 1, p: 1), length: 64)
        XCTAssertEqual(key, hexBytes("""
            77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442
            fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906
            """))
    }

    // RFC 7914 section 12, second vector: "password" / "NaCl", N=1024, r=8, p=16.
    func testRFC7914PasswordNaCl() throws {
        let key = try Scrypt.derive(password: ascii("password"), salt: ascii("NaCl"),
                                    parameters: .init(n: 1024, r: 8, p: 16), length: 64)
        XCTAssertEqual(key, hexBytes("""
            fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162
            2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640
            """))
    }

    // N must be a power of two: libcrypto's refusal surfaces as a thrown CryptoError.library.
    func testNonPowerOfTwoNIsRejected() {
        XCTAssertThrowsError(try Scrypt.derive(password: ascii("pw"), salt: ascii("salt"),
                                               parameters: .init(n: 1000, r: 8, p: 1), length: 32)) { error in
            guard case .library? = error as? CryptoError else { return XCTFail("unexpected error \(error)") }
        }
    }

    // memoryBytes follows the 128 · r · (N + p + 2) formula.
    func testMemoryBytes() {
        XCTAssertEqual(Scrypt.Parameters(n: 1 << 15, r: 8, p: 1).memoryBytes, 128 * 8 * ((1 << 15) + 1 + 2))
    }

    // memoryBytes saturates instead of wrapping when the formula does not fit in 64 bits.
    func testMemoryBytesSaturates() {
        XCTAssertEqual(Scrypt.Parameters(n: 1 << 57, r: 1, p: 1).memoryBytes, .max)
        XCTAssertEqual(Scrypt.Parameters(n: 2, r: 1 << 60, p: 1).memoryBytes, .max)
        XCTAssertEqual(Scrypt.Parameters(n: .max, r: 1, p: 1).memoryBytes, .max)
    }

    // Absurd cost parameters are refused with a thrown error; they used to trap on overflow (n = 2^56).
    func testAbsurdParametersThrowInsteadOfTrapping() {
        for parameters in [Scrypt.Parameters(n: 1 << 56, r: 1, p: 1),
                           Scrypt.Parameters(n: 1 << 62, r: 8, p: 1),
                           Scrypt.Parameters(n: 16, r: 1 << 60, p: 1),
                           Scrypt.Parameters(n: 16, r: 1, p: .max)] {
            XCTAssertThrowsError(try Scrypt.derive(password: ascii("pw"), salt: ascii("salt"),
                                                   parameters: parameters, length: 32), "\(parameters)")
        }
    }
}
