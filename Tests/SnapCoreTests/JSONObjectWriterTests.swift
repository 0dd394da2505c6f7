import Foundation
import XCTest
@testable import SnapCore

/// `JSONObjectWriter` writes what `JSONEncoder` writes with `.sortedKeys` and
/// `.withoutEscapingSlashes`, when given keys in byte order.
final class JSONObjectWriterTests: XCTestCase {
    private struct Sample: Encodable {
        var a: String
        var b: [String]?
        var c: UInt64
        var d: Int64?
        var f: [String: String]?
        var g: String?
    }

    private func encoded(_ sample: Sample) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(sample), as: UTF8.self)
    }

    private func written(_ sample: Sample) -> String {
        var o = JSONObjectWriter()
        o.field("a", sample.a)
        o.field("b", strings: sample.b)
        o.field("c", sample.c)
        o.field("d", sample.d)
        o.field("f", object: sample.f)
        o.field("g", sample.g)
        return String(decoding: o.finished(), as: UTF8.self)
    }

    func testEveryASCIICharacterIsEscapedAsJSONEncoderDoesIt() throws {
        for code in 0..<0x80 {
            let text = "x" + String(Unicode.Scalar(UInt8(code))) + "y"
            let sample = Sample(a: text, b: [text, ""], c: 0, d: nil, f: [text: text], g: nil)
            XCTAssertEqual(written(sample), try encoded(sample), "character \(code)")
        }
    }

    func testRandomTextNumbersAndOptionalsMatchJSONEncoder() throws {
        let alphabet: [Unicode.Scalar] = ["a", "/", "\\", "\"", "\n", "\u{0}", "\u{1f}", "\u{7f}", "é", "\u{2028}", "😀", "\u{FEFF}", " "]
        var generator = SystemRandomNumberGenerator()
        func text() -> String {
            var s = ""
            for _ in 0..<Int.random(in: 0...12, using: &generator) { s.unicodeScalars.append(alphabet.randomElement(using: &generator)!) }
            return s
        }
        for _ in 0..<500 {
            let sample = Sample(
                a: text(), b: Bool.random() ? nil : (0..<Int.random(in: 0...3)).map { _ in text() },
                c: [0, 1, UInt64.max, UInt64.random(in: 0...UInt64.max)].randomElement()!,
                d: Bool.random() ? nil : [Int64.min, -1, 0, Int64.max].randomElement()!,
                f: Bool.random() ? nil : Dictionary((0..<Int.random(in: 0...4)).map { _ in (text(), text()) }, uniquingKeysWith: { a, _ in a }),
                g: Bool.random() ? nil : text())
            XCTAssertEqual(written(sample), try encoded(sample))
        }
    }

    func testAnEmptyObject() {
        XCTAssertEqual(String(decoding: JSONObjectWriter().finished(), as: UTF8.self), "{}")
    }

    // Raw bytes keep bytes that are not UTF-8 as they are and escape the rest as strings
    // are escaped; booleans are true and false.
    func testRawBytesAndBooleans() {
        var writer = JSONObjectWriter()
        writer.field("name", rawBytes: Array("a\"b\\c\n".utf8) + [0x01, 0xE9])
        writer.field("hard", true)
        writer.field("none", nil as Bool?)
        XCTAssertEqual(writer.finished(), Array(#"{"name":"a\"b\\c\n\u0001"#.utf8) + [0xE9] + Array(#"","hard":true}"#.utf8))
    }
}
