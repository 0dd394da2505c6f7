import XCTest
@testable import SnapCore

final class DecimalTextTests: XCTestCase {
    // The digits of `String(value)`, with zeros in front up to the width, after what was there.
    func testDigitsMatchStringWithLeadingZeros() {
        var values: [UInt64] = [0, 1, 9, 10, 99, 100, 123_456_789, UInt64(UInt32.max), UInt64.max, UInt64.max - 1]
        for _ in 0..<200 { values.append(UInt64.random(in: 0...UInt64.max) >> UInt64.random(in: 0...63)) }
        for value in values {
            for width in [0, 1, 2, 4, 9, 25] {
                var out = Array("x".utf8)
                DecimalText.append(value, width: width, to: &out)
                let digits = String(value)
                XCTAssertEqual(String(decoding: out, as: UTF8.self),
                               "x" + String(repeating: "0", count: max(0, width - digits.count)) + digits, "\(value) width \(width)")
            }
        }
    }
}
