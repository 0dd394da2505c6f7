import XCTest
import SnapCrypto

/// Known answers from McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)",
/// appendix B, test cases 13 to 16 (256-bit keys, 96-bit IVs).
final class AESGCMTests: XCTestCase {
    private let key = hexBytes("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    private let iv = hexBytes("cafebabefacedbaddecaf888")
    private let plaintext = hexBytes("""
        d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
        1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255
        """)
    private let ciphertext = hexBytes("""
        522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
        8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad
        """)

    // Test case 15: 64-byte message, no AAD; output is ciphertext then tag, and opens back.
    func testCase15WithoutAAD() throws {
        let gcm = try AESGCM(key: key)
        let sealed = try gcm.seal(plaintext, nonce: iv)
        XCTAssertEqual(sealed, ciphertext + hexBytes("b094dac5d93471bdec1a502270e3cc6c"))
        XCTAssertEqual(try gcm.open(sealed, nonce: iv), plaintext)
    }

    // Test case 16: 60-byte message with 20 bytes of AAD.
    func testCase16WithAAD() throws {
        let gcm = try AESGCM(key: key)
        let aad = hexBytes("feedfacedeadbeeffeedfacedeadbeefabaddad2")
        let sealed = try gcm.seal(Array(plaintext.prefix(60)), nonce: iv, aad: aad)
        XCTAssertEqual(sealed, Array(ciphertext.prefix(60)) + hexBytes("76fc6ece0f4e1768cddf8853bb2d551b"))
        XCTAssertEqual(try gcm.open(sealed, nonce: iv, aad: aad), Array(plaintext.prefix(60)))
    }

    // Test case 13: all-zero key and IV, empty plaintext: the output is the tag alone.
    func testCase13EmptyPlaintext() throws {
        let gcm = try AESGCM(key: [UInt8](repeating: 0, count: 32))
        let sealed = try gcm.seal([], nonce: [UInt8](repeating: 0, count: 12))
        XCTAssertEqual(sealed, hexBytes("530f8afbc74536b9a963b4f1c4cb738b"))
        XCTAssertEqual(try gcm.open(sealed, nonce: [UInt8](repeating: 0, count: 12)), [])
    }

    // Test case 14: all-zero key and IV, one zero block.
    func testCase14OneBlock() throws {
        let gcm = try AESGCM(key: [UInt8](repeating: 0, count: 32))
        let sealed = try gcm.seal([UInt8](repeating: 0, count: 16), nonce: [UInt8](repeating: 0, count: 12))
        XCTAssertEqual(sealed, hexBytes("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"))
    }

    // seal(appendingTo:) keeps what the buffer already held and appends ciphertext + tag after it.
    func testSealAppendsAfterExistingBytes() throws {
        let gcm = try AESGCM(key: key)
        var out: [UInt8] = [1, 2, 3]
        try plaintext.withUnsafeBytes { try gcm.seal($0, nonce: iv, appendingTo: &out) }
        XCTAssertEqual(out, [1, 2, 3] + ciphertext + hexBytes("b094dac5d93471bdec1a502270e3cc6c"))
    }

    // One context can be reused for many messages: sealing twice gives the same answer.
    func testContextReuse() throws {
        let gcm = try AESGCM(key: key)
        let first = try gcm.seal(plaintext, nonce: iv)
        _ = try gcm.open(first, nonce: iv)
        XCTAssertEqual(try gcm.seal(plaintext, nonce: iv), first)
    }

    // The context keeps the key schedule between messages and only changes the nonce: a
    // run of seals and opens in mixed order, under different nonces, gives exactly what a
    // fresh context gives for each message, and a failed open does not spoil the next one.
    func testReusedContextMatchesFreshContexts() throws {
        let gcm = try AESGCM(key: key)
        var nonces: [[UInt8]] = []
        for i in 0..<4 { nonces.append([UInt8](repeating: 0, count: 11) + [UInt8(i)]) }
        var sealed: [[UInt8]] = []
        for (i, nonce) in nonces.enumerated() {
            let message = [UInt8](repeating: UInt8(i), count: 10 + 70 * i)
            let expected = try AESGCM(key: key).seal(message, nonce: nonce)
            XCTAssertEqual(try gcm.seal(message, nonce: nonce), expected)
            sealed.append(expected)
            if i > 0 {
                XCTAssertEqual(try gcm.open(sealed[i - 1], nonce: nonces[i - 1]),
                               [UInt8](repeating: UInt8(i - 1), count: 10 + 70 * (i - 1)))
            }
        }
        XCTAssertThrowsError(try gcm.open(sealed[1], nonce: nonces[2]))
        XCTAssertEqual(try gcm.open(sealed[2], nonce: nonces[2]), [UInt8](repeating: 2, count: 150))
        XCTAssertEqual(try gcm.open(sealed[3], nonce: nonces[3]), [UInt8](repeating: 3, count: 220))
    }
}
