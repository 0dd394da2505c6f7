@testable import SnapEngine
import XCTest

final class TarWriterTests: XCTestCase {
    // A pax record's length counts its own digits, also where that adds a digit.
    func testRecordLengthCountsItself() {
        for valueLength in 0..<300 {
            let record = TarWriter.record(Array("path".utf8), [UInt8](repeating: 0x61, count: valueLength))
            let prefix = record.prefix { $0 != 0x20 }
            XCTAssertEqual(Int(String(decoding: prefix, as: UTF8.self)), record.count, "value of \(valueLength) bytes")
            XCTAssertEqual(record.last, 0x0a)
        }
    }

    // Headers are whole blocks with a valid checksum; the archive ends with two zero blocks.
    func testHeadersAreBlocksWithValidChecksums() throws {
        var stream: [UInt8] = []
        let tar = TarWriter { stream += $0 }
        var entry = TarWriter.Entry(path: Array("a/b.txt".utf8), type: .file, mode: 0o644, uid: 1000, gid: 1000,
                                    user: "me", group: "me", size: 3, mtimeSeconds: 1_600_000_000, mtimeNanoseconds: 5)
        entry.xattrs = [(Array("user.k".utf8), Array("v".utf8))]
        try tar.begin(entry)
        try tar.output(Array("abc".utf8))
        try tar.finishContent(size: 3)
        try tar.finish()
        XCTAssertEqual(stream.count % 512, 0)
        for offset in [0, 1024] {  // the pax header, then the file's ustar header
            let block = Array(stream[offset..<offset + 512])
            var sum = 0
            for (i, b) in block.enumerated() { sum += (148..<156).contains(i) ? 0x20 : Int(b) }
            let stored = Int(String(decoding: block[148..<154], as: UTF8.self), radix: 8)
            XCTAssertEqual(stored, sum, "block at \(offset)")
            XCTAssertEqual(Array(block[257..<262]), Array("ustar".utf8))
        }
        let pax = String(decoding: stream[512..<1024], as: UTF8.self)
        XCTAssertTrue(pax.contains("mtime=1600000000.000000005\n"), pax)
        XCTAssertTrue(pax.contains("SCHILY.xattr.user.k=v\n"), pax)
        XCTAssertEqual(Array(stream.suffix(1024)), [UInt8](repeating: 0, count: 1024))
    }
}
