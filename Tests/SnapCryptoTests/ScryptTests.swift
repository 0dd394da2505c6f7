import XCTest
import COpenSSL
import CScrypt
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

    // RFC 7914 section 12, third vector: "pleaseletmein" / "SodiumChloride", N=16384, r=8, p=1.
    func testRFC7914PleaseLetMeIn() throws {
        let key = try Scrypt.derive(password: ascii("pleaseletmein"), salt: ascii("SodiumChloride"),
                                    parameters: .init(n: 16384, r: 8, p: 1), length: 64)
        XCTAssertEqual(key, hexBytes("""
            7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2
            d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887
            """))
    }

    // Our ROMix (which stores a quarter of the table) derives what libcrypto's scrypt does,
    // for the smallest N (below the table interval), odd r and p, and random inputs.
    func testMatchesLibcrypto() throws {
        var generator = SystemRandomNumberGenerator()
        for (n, r, p): (UInt64, UInt64, UInt64) in [(2, 1, 1), (4, 1, 1), (8, 3, 2), (64, 2, 3), (1024, 8, 1), (256, 5, 1)] {
            let password = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let salt = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let length = Int.random(in: 1...100, using: &generator)
            let ours = try Scrypt.derive(password: password, salt: salt, parameters: .init(n: n, r: r, p: p), length: length)
            XCTAssertEqual(ours, libcryptoScrypt(password: password, salt: salt, n: n, r: r, p: p, length: length),
                           "N=\(n) r=\(r) p=\(p) password \(password.count) B, salt \(salt.count) B, output \(length) B")
        }
    }

    // Storing every k-th table entry and recomputing the rest changes nothing in ROMix's result.
    func testEveryTableIntervalGivesTheSameBlock() {
        let r = 2
        let input = (0..<(128 * r)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        var expected = input
        XCTAssertEqual(snap_scrypt_romix(&expected, r, 256, 1), 0)
        XCTAssertNotEqual(expected, input)
        for interval: UInt64 in [2, 4, 8, 256] {
            var block = input
            XCTAssertEqual(snap_scrypt_romix(&block, r, 256, interval), 0)
            XCTAssertEqual(block, expected, "interval \(interval)")
        }
    }

    // A table too large to allocate is refused, not a crash.
    func testUnallocatableTableIsRefused() {
        var block = [UInt8](repeating: 1, count: 128)
        XCTAssertEqual(snap_scrypt_romix(&block, 1, 1 << 62, 1), -1)
    }

    private func libcryptoScrypt(password: [UInt8], salt: [UInt8], n: UInt64, r: UInt64, p: UInt64, length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let ok = (password + [0]).withUnsafeBufferPointer { pw in
            (salt + [0]).withUnsafeBufferPointer { s in
                pw.withMemoryRebound(to: CChar.self) { pwc in
                    EVP_PBE_scrypt(pwc.baseAddress, password.count, s.baseAddress, salt.count, n, r, p, 0, &out, length)
                }
            }
        }
        XCTAssertEqual(ok, 1, "EVP_PBE_scrypt")
        return out
    }

    // N must be a power of two greater than 1: refused with CryptoError.invalidParameters.
    func testNonPowerOfTwoNIsRejected() {
        for n: UInt64 in [1000, 1, 0] {
            XCTAssertThrowsError(try Scrypt.derive(password: ascii("pw"), salt: ascii("salt"),
                                                   parameters: .init(n: n, r: 8, p: 1), length: 32)) { error in
                guard case .invalidParameters? = error as? CryptoError else { return XCTFail("unexpected error \(error)") }
            }
        }
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
