import XCTest
import SnapCore

final class HexTests: XCTestCase {
    // Encoding is lower-case, two digits a byte, most significant nibble first.
    func testEncode() {
        XCTAssertEqual(Hex.encode([0x00, 0xff, 0x0a, 0xb1]), "00ff0ab1")
        XCTAssertEqual(Hex.encode([UInt8]()), "")
    }

    // Every byte value survives encode then decode.
    func testRoundTripAllBytes() {
        let all = (0...255).map { UInt8($0) }
        XCTAssertEqual(Hex.decode(Hex.encode(all)), all)
    }

    // Decoding accepts either case and the empty string.
    func testDecodeEitherCase() {
        XCTAssertEqual(Hex.decode("00fF0aB1"), [0x00, 0xff, 0x0a, 0xb1])
        XCTAssertEqual(Hex.decode(""), [])
    }

    // An odd number of digits is rejected.
    func testDecodeRejectsOddLength() {
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("0"))
    }

    // Anything that is not a hex digit is rejected, wherever it appears.
    func testDecodeRejectsNonHex() {
        for text in ["zz", "0g", "g0", "12 4", " 1", "0x12", "é1", "ab-d", "12\n"] {
            XCTAssertNil(Hex.decode(text), text)
        }
    }
}
