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

    // pax times are signed decimals; a node's time is the second at or before it plus
    // nanoseconds, so times before 1970 with nanoseconds count back from the next second.
    func testPaxTimeOfTimesBeforeAndAfter1970() throws {
        let cases: [(Int64, UInt32, String)] = [
            (0, 0, "0.000000000"),
            (1, 500_000_000, "1.500000000"),
            (-1, 0, "-1.000000000"),
            (-1, 999_999_999, "-0.000000001"),              // 1969-12-31 23:59:59.999999999
            (-1_576_800_000, 123_456_789, "-1576799999.876543211"),  // 1920-01-14 00:00:00.123456789
            (-2, 750_000_000, "-1.250000000"),
            (1_600_000_000, 5, "1600000000.000000005"),
            (Int64.min, 1, "-9223372036854775807.999999999"),
        ]
        for (seconds, nanoseconds, text) in cases {
            XCTAssertEqual(TarWriter.paxTime(seconds: seconds, nanoseconds: nanoseconds), text, "\(seconds) s + \(nanoseconds) ns")
        }
        // The tar reader (`backup --stdin-tar`) reads each back as the same time, where it
        // fits its range (the reader refuses a whole part of Int64.max or more).
        for (seconds, nanoseconds, text) in cases where seconds != Int64.min {
            XCTAssertEqual(try TarExtendedHeader.time(Array(text.utf8), "mtime"),
                           Timestamp(seconds: seconds, nanoseconds: nanoseconds), text)
        }
    }

    // The mtime record of an entry from before 1970 is the pax decimal of its time.
    func testEntryBefore1970HasExactMtimeRecord() throws {
        var stream: [UInt8] = []
        let tar = TarWriter { stream += $0 }
        try tar.begin(TarWriter.Entry(path: Array("old".utf8), type: .directory, mode: 0o755, uid: 0, gid: 0, user: "", group: "",
                                      size: 0, mtimeSeconds: -1, mtimeNanoseconds: 999_999_999))
        let pax = String(decoding: stream[512..<1024], as: UTF8.self)
        XCTAssertTrue(pax.contains(" mtime=-0.000000001\n"), pax)
    }
}
