import XCTest
import SnapCrypto

final class SHA256Tests: XCTestCase {
    // FIPS 180-2 appendix B.1: the one-block message "abc".
    func testAbc() {
        XCTAssertEqual(SHA256.hash(ascii("abc")),
                       hexBytes("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
    }

    // The digest of the empty message (no data pointer at all).
    func testEmpty() {
        XCTAssertEqual(SHA256.hash([]),
                       hexBytes("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
    }

    // FIPS 180-2 appendix B.2: the two-block 56-byte message.
    func testTwoBlockMessage() {
        XCTAssertEqual(SHA256.hash(ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
                       hexBytes("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"))
    }

    // Feeding a message to SHA256Hasher in uneven pieces (including empty ones) gives the one-shot digest.
    func testHasherInPiecesEqualsOneShot() throws {
        let message = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let hasher = try SHA256Hasher()
        var offset = 0
        for size in [0, 1, 63, 64, 65, 0, 1000, 4096] {
            hasher.update(Array(message[offset..<offset + size]))
            offset += size
        }
        hasher.update(Array(message[offset...]))
        XCTAssertEqual(hasher.finalize(), SHA256.hash(message))
    }

    // A hasher that was fed nothing returns the digest of the empty message.
    func testHasherWithNoInput() throws {
        XCTAssertEqual(try SHA256Hasher().finalize(), SHA256.hash([]))
    }

    // The hasher also gives the FIPS 180 answer for "abc" fed one byte at a time.
    func testHasherByteAtATime() throws {
        let hasher = try SHA256Hasher()
        for byte in ascii("abc") { hasher.update([byte]) }
        XCTAssertEqual(hasher.finalize(),
                       hexBytes("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
    }
}
