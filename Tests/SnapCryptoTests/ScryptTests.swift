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

    // RFC 7914 section 12, third vector: "pleaseletmein" / "SodiumChloride", N=16384, r=8, p=1.
    func testRFC7914PleaseLetMeIn() throws {
        let key = try Scrypt.derive(password: ascii("pleaseletmein"), salt: ascii("SodiumChloride"),
                                    parameters: .init(n: 16384, r: 8, p: 1), length: 64)
        XCTAssertEqual(key, hexBytes("""
            7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2
            d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887
            """))
    }

    // The default key cost (N = 2^15, r = 8: 32 MiB) derives: libcrypto is given an explicit
    // memory bound, without which it stops at 32 MiB and refuses this cost.
    func testDefaultKeyCostDerives() throws {
        let parameters = Scrypt.Parameters(n: 1 << 15, r: 8, p: 1)
        XCTAssertEqual(parameters.memoryBytes, 128 * 8 * ((1 << 15) + 3))
        XCTAssertEqual(try Scrypt.derive(password: ascii("pw"), salt: ascii("salt"), parameters: parameters, length: 32).count, 32)
    }

    // The memory figure is what libcrypto allocates: exactly that limit derives RFC 7914's
    // third vector, one byte less is refused before anything is computed.
    func testMemoryLimitIsExact() throws {
        let parameters = Scrypt.Parameters(n: 16384, r: 8, p: 1)
        let needed = try XCTUnwrap(parameters.memoryBytes)
        XCTAssertEqual(needed, 128 * 8 * (16384 + 1 + 2))
        let derive = { (limit: UInt64) in
            try Scrypt.derive(password: ascii("pleaseletmein"), salt: ascii("SodiumChloride"), parameters: parameters,
                              length: 64, limits: .init(maxMemory: limit))
        }
        XCTAssertEqual(Array(try derive(needed).prefix(4)), [0x70, 0x23, 0xbd, 0xcb])
        XCTAssertThrowsError(try derive(needed - 1)) { error in
            XCTAssertEqual(error as? CryptoError, .scryptAboveLimit(.memory, parameters: parameters, limits: .init(maxMemory: needed - 1)))
        }
    }

    // Parameters above the default 1 GiB are refused at once, without allocating: the
    // largest a key file may name (128 GiB) takes well under a second to refuse.
    func testAboveTheMemoryLimitIsRefusedWithoutAllocating() throws {
        let clock = ContinuousClock()
        let start = clock.now
        for r: UInt64 in [8, 32, 64] {
            let parameters = Scrypt.Parameters(n: 1 << 24, r: r, p: 1)
            XCTAssertThrowsError(try Scrypt.derive(password: ascii("pw"), salt: ascii("salt"), parameters: parameters, length: 32)) {
                guard case .scryptAboveLimit(.memory, parameters, _)? = $0 as? CryptoError else { return XCTFail("\($0)") }
            }
        }
        XCTAssertLessThan(clock.now - start, .milliseconds(500))
        let error = CryptoError.scryptAboveLimit(.memory, parameters: .init(n: 1 << 24, r: 8, p: 1), limits: .init())
        XCTAssertEqual(error.description, "needs 16 GiB for scrypt (N=2^24, r=8), above the 1 GiB limit")
    }

    // p multiplies the time but not the memory: N·r·p is capped at four 1 GiB tables' worth.
    func testWorkIsLimitedAsWellAsMemory() throws {
        let limits = Scrypt.Limits()
        XCTAssertEqual(limits.maxWork, 1 << 25)
        XCTAssertNoThrow(try limits.check(.init(n: 1 << 16, r: 8, p: 64)))  // 64 MiB, 2^25 blocks
        XCTAssertNoThrow(try limits.check(.init(n: 1 << 19, r: 8, p: 8)))   // 512 MiB, 2^25 blocks
        for parameters in [Scrypt.Parameters(n: 1 << 17, r: 8, p: 64), .init(n: 1 << 19, r: 8, p: 9)] {
            XCTAssertThrowsError(try Scrypt.derive(password: ascii("pw"), salt: ascii("salt"), parameters: parameters, length: 32)) {
                XCTAssertEqual($0 as? CryptoError, .scryptAboveLimit(.work, parameters: parameters, limits: limits))
            }
        }
        // Raising the memory limit raises the work limit with it.
        XCTAssertNoThrow(try Scrypt.Limits(maxMemory: 2 << 30).check(.init(n: 1 << 17, r: 8, p: 64)))
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
