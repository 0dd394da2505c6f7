import XCTest
import SnapCrypto

final class MD5Tests: XCTestCase {
    // The test suite of RFC 1321, appendix A.5.
    func testRFC1321Suite() throws {
        let suite: [(String, String)] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            ("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
             "57edf4a22be3c955ac49da2e2107b67a"),
        ]
        for (message, digest) in suite {
            XCTAssertEqual(try MD5.hash(ascii(message)), hexBytes(digest), "MD5(\"\(message)\")")
        }
    }

    // Fed in pieces of every split of the RFC's longest message, the incremental hasher gives its digest.
    func testIncrementalHasherMatchesTheRFC() throws {
        let message = ascii("12345678901234567890123456789012345678901234567890123456789012345678901234567890")
        for split in [0, 1, 63, 64, 65, 80] {
            let hasher = try MD5Hasher()
            try message[..<split].withUnsafeBytes { try hasher.update($0) }
            try message[split...].withUnsafeBytes { try hasher.update($0) }
            XCTAssertEqual(try hasher.finalize(), hexBytes("57edf4a22be3c955ac49da2e2107b67a"), "split at \(split)")
        }
    }

    // The raw-buffer entry point with no base address (empty input) gives the empty digest.
    func testEmptyBufferWithoutPointer() throws {
        let digest = try MD5.hash(UnsafeRawBufferPointer(start: nil, count: 0))
        XCTAssertEqual(digest, hexBytes("d41d8cd98f00b204e9800998ecf8427e"))
    }

    // A message longer than one 64-byte block, fed as one array, is hashed whole: changing its
    // last byte changes the digest.
    func testLastByteMatters() throws {
        var message = [UInt8](repeating: 0x61, count: 1000)
        let before = try MD5.hash(message)
        message[999] = 0x62
        XCTAssertNotEqual(try MD5.hash(message), before)
        XCTAssertEqual(before.count, MD5.digestLength)
    }
}
