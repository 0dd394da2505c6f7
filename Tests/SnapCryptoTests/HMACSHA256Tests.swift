import XCTest
import SnapCrypto

final class HMACSHA256Tests: XCTestCase {
    // RFC 4231 test case 1: 20-byte key of 0x0b, data "Hi There".
    func testRFC4231Case1() {
        let mac = HMACSHA256.authenticate(ascii("Hi There"), key: [UInt8](repeating: 0x0b, count: 20))
        XCTAssertEqual(mac, hexBytes("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"))
    }

    // RFC 4231 test case 2: a key shorter than the output ("Jefe").
    func testRFC4231Case2() {
        let mac = HMACSHA256.authenticate(ascii("what do ya want for nothing?"), key: ascii("Jefe"))
        XCTAssertEqual(mac, hexBytes("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
    }

    // RFC 4231 test case 6: a 131-byte key, longer than the block, is hashed first.
    func testRFC4231Case6() {
        let mac = HMACSHA256.authenticate(ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
                                          key: [UInt8](repeating: 0xaa, count: 131))
        XCTAssertEqual(mac, hexBytes("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"))
    }

    // RFC 2104 pads short keys with zeros, so an empty key must equal a 64-byte zero key (and not fail silently).
    func testEmptyKeyEqualsZeroPaddedKey() {
        let data = ascii("message")
        let zeroKey = HMACSHA256.authenticate(data, key: [UInt8](repeating: 0, count: 64))
        XCTAssertEqual(HMACSHA256.authenticate(data, key: []), zeroKey)
        XCTAssertNotEqual(zeroKey, [UInt8](repeating: 0, count: 32))
    }

    // Empty data is authenticated like any other message: the MAC depends on the key.
    func testEmptyData() {
        let a = HMACSHA256.authenticate([], key: ascii("key a"))
        let b = HMACSHA256.authenticate([], key: ascii("key b"))
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(a, HMACSHA256.authenticate([], key: ascii("key a")))
    }

    // A reused context gives, message after message, the same MACs as the one-shot
    // function: RFC 4231 case 2, then messages of other lengths (empty, one byte, more than
    // a block), in an order where each follows a different one.
    func testContextMatchesOneShotAcrossMessages() {
        let key = ascii("Jefe")
        let context = HMACSHA256Context(key: key)
        XCTAssertEqual(ascii("what do ya want for nothing?").withUnsafeBytes { context.authenticate($0) },
                       hexBytes("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
        let messages: [[UInt8]] = [[], [7], [UInt8](repeating: 0x5a, count: 200), ascii("what do ya want for nothing?"), []]
        for message in messages {
            let expected = HMACSHA256.authenticate(message, key: key)
            XCTAssertEqual(message.withUnsafeBytes { context.authenticate($0) }, expected, "\(message.count) bytes")
        }
    }

    // The context keeps its own key: two contexts with different keys give different MACs.
    func testContextsKeepTheirKeys() {
        let a = HMACSHA256Context(key: ascii("key a")), b = HMACSHA256Context(key: ascii("key b"))
        let data = ascii("message")
        let macA = data.withUnsafeBytes { a.authenticate($0) }
        let macB = data.withUnsafeBytes { b.authenticate($0) }
        XCTAssertEqual(macA, HMACSHA256.authenticate(data, key: ascii("key a")))
        XCTAssertEqual(macB, HMACSHA256.authenticate(data, key: ascii("key b")))
        XCTAssertNotEqual(macA, macB)
    }

    // An empty key (which libcrypto's MAC context does not take) still gives the RFC 2104
    // MAC, the same as the one-shot function's, for each message in turn.
    func testContextWithEmptyKeyMatchesOneShot() {
        let context = HMACSHA256Context(key: [])
        for message in [ascii("message"), [], ascii("message")] {
            XCTAssertEqual(message.withUnsafeBytes { context.authenticate($0) }, HMACSHA256.authenticate(message, key: []))
        }
    }
}
