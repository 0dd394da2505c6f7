import XCTest
import SnapCrypto

final class AESGCMTamperTests: XCTestCase {
    private let key = (0..<32).map { UInt8($0) }
    private let nonce = (100..<112).map { UInt8($0) }

    private func assertAuthenticationFails(_ body: @autoclosure () throws -> [UInt8], _ message: String,
                                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), message, file: file, line: line) { error in
            XCTAssertEqual(error as? CryptoError, .authenticationFailed, message, file: file, line: line)
        }
    }

    // Flipping any single bit of the ciphertext or tag makes open throw authenticationFailed.
    func testEveryFlippedBitIsDetected() throws {
        let gcm = try AESGCM(key: key)
        let sealed = try gcm.seal(ascii("short msg"), nonce: nonce, aad: ascii("header"))
        XCTAssertEqual(sealed.count, 9 + AESGCM.tagLength)
        for bit in 0..<(sealed.count * 8) {
            var damaged = sealed
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            assertAuthenticationFails(try gcm.open(damaged, nonce: nonce, aad: ascii("header")), "bit \(bit)")
        }
        XCTAssertEqual(try gcm.open(sealed, nonce: nonce, aad: ascii("header")), ascii("short msg"))
    }

    // Different, missing or extra AAD fails authentication.
    func testWrongAADFails() throws {
        let gcm = try AESGCM(key: key)
        let sealed = try gcm.seal(ascii("payload"), nonce: nonce, aad: ascii("aad-1"))
        assertAuthenticationFails(try gcm.open(sealed, nonce: nonce, aad: ascii("aad-2")), "different AAD")
        assertAuthenticationFails(try gcm.open(sealed, nonce: nonce), "missing AAD")
        let plain = try gcm.seal(ascii("payload"), nonce: nonce)
        assertAuthenticationFails(try gcm.open(plain, nonce: nonce, aad: ascii("extra")), "extra AAD")
    }

    // Opening with another nonce or another key fails authentication.
    func testWrongNonceOrKeyFails() throws {
        let sealed = try AESGCM(key: key).seal(ascii("payload"), nonce: nonce)
        var otherNonce = nonce
        otherNonce[11] ^= 1
        assertAuthenticationFails(try AESGCM(key: key).open(sealed, nonce: otherNonce), "other nonce")
        var otherKey = key
        otherKey[0] ^= 0x80
        assertAuthenticationFails(try AESGCM(key: otherKey).open(sealed, nonce: nonce), "other key")
    }

    // Input shorter than a tag, or truncated by one byte, fails authentication without crashing.
    func testTruncatedInputFails() throws {
        let gcm = try AESGCM(key: key)
        let sealed = try gcm.seal(ascii("payload"), nonce: nonce)
        assertAuthenticationFails(try gcm.open([], nonce: nonce), "empty")
        assertAuthenticationFails(try gcm.open(Array(sealed.prefix(15)), nonce: nonce), "15 bytes")
        assertAuthenticationFails(try gcm.open(Array(sealed.dropLast()), nonce: nonce), "one byte short")
        assertAuthenticationFails(try gcm.open(Array(sealed.dropFirst()), nonce: nonce), "first byte gone")
    }

    // A nonce of any length but 12 throws invalidLength, for seal and open alike.
    func testWrongNonceLengthThrows() throws {
        let gcm = try AESGCM(key: key)
        let sealed = try gcm.seal(ascii("payload"), nonce: nonce)
        for length in [0, 8, 11, 13, 16] {
            let bad = [UInt8](repeating: 7, count: length)
            XCTAssertThrowsError(try gcm.seal(ascii("payload"), nonce: bad)) { error in
                XCTAssertEqual(error as? CryptoError, .invalidLength(what: "AES-GCM nonce", expected: 12, actual: length))
            }
            XCTAssertThrowsError(try gcm.open(sealed, nonce: bad)) { error in
                XCTAssertEqual(error as? CryptoError, .invalidLength(what: "AES-GCM nonce", expected: 12, actual: length))
            }
        }
    }

    // A key of any length but 32 is refused with invalidLength.
    func testWrongKeyLengthThrows() {
        for length in [0, 16, 31, 33] {
            XCTAssertThrowsError(try AESGCM(key: [UInt8](repeating: 1, count: length))) { error in
                XCTAssertEqual(error as? CryptoError, .invalidLength(what: "AES-256 key", expected: 32, actual: length))
            }
        }
    }

    // An empty plaintext round-trips, with and without AAD, and its tag is still checked.
    func testEmptyPlaintextRoundTrip() throws {
        let gcm = try AESGCM(key: key)
        let sealed = try gcm.seal([], nonce: nonce)
        XCTAssertEqual(sealed.count, AESGCM.tagLength)
        XCTAssertEqual(try gcm.open(sealed, nonce: nonce), [])
        let withAAD = try gcm.seal([], nonce: nonce, aad: ascii("context"))
        XCTAssertEqual(try gcm.open(withAAD, nonce: nonce, aad: ascii("context")), [])
        XCTAssertNotEqual(withAAD, sealed)
        var damaged = sealed
        damaged[0] ^= 1
        assertAuthenticationFails(try gcm.open(damaged, nonce: nonce), "damaged tag of empty message")
    }

    // A multi-block message of odd length round-trips.
    func testLongerMessageRoundTrip() throws {
        let gcm = try AESGCM(key: key)
        let message = (0..<100_001).map { UInt8(truncatingIfNeeded: $0 &* 131) }
        let sealed = try gcm.seal(message, nonce: nonce, aad: ascii("a"))
        XCTAssertEqual(sealed.count, message.count + 16)
        XCTAssertNotEqual(Array(sealed.prefix(message.count)), message)
        XCTAssertEqual(try gcm.open(sealed, nonce: nonce, aad: ascii("a")), message)
    }
}
