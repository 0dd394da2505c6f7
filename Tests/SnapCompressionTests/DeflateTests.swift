import Foundation
import SnapCompression
import SnapTestSupport
import XCTest

/// The zlib wrappers for zip output: CRC-32's check value, and raw deflate streams that
/// Python's zlib (an independent inflater) reads back.
final class DeflateTests: XCTestCase {
    func testCRC32CheckValue() {
        var crc = CRC32()
        XCTAssertEqual(crc.value, 0)
        crc.update(Array("12345".utf8))
        crc.update(Array("6789".utf8))
        XCTAssertEqual(crc.value, 0xCBF4_3926, "the CRC-32 check value of \"123456789\"")
    }

    // Two streams from one Deflater (reset between), fed in pieces: each inflates to its
    // input, and Python's CRC-32 agrees with ours.
    func testStreamsInflateWithPython() throws {
        let work = try TemporaryDirectory(prefix: "snap-deflate")
        defer { work.remove() }
        let deflater = try Deflater()
        let inputs = [textBytes(300_000, seed: 1) + randomBytes(100_000, seed: 2), []]
        for (n, input) in inputs.enumerated() {
            var compressed: [UInt8] = [], crc = CRC32()
            for start in stride(from: 0, to: input.count, by: 70_000) {
                let piece = Array(input[start..<min(start + 70_000, input.count)])
                crc.update(piece)
                try piece.withUnsafeBytes { try deflater.compress($0, appendingTo: &compressed) }
            }
            try deflater.finish(appendingTo: &compressed)
            try deflater.reset()
            XCTAssertLessThan(compressed.count, max(input.count, 10), "stream \(n)")
            let path = work.appending("stream\(n)")
            try Data(compressed).write(to: URL(fileURLWithPath: path))
            let script = "import sys, zlib; d = zlib.decompress(open(sys.argv[1], 'rb').read(), -15); print(len(d), zlib.crc32(d))"
            let result = try runTool("/usr/bin/env", ["python3", "-c", script, path])
            XCTAssertEqual(result.stdout, "\(input.count) \(crc.value)\n", "stream \(n)")
        }
        XCTAssertGreaterThanOrEqual(Deflater.bound(1 << 32), 1 << 32)
    }
}
