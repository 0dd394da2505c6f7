import Foundation
import SnapTestSupport
import XCTest

/// One entry of a zip archive as Python's `zipfile` (an independent reader) sees it.
struct InspectedZipEntry: Decodable {
    let name: String
    let size: UInt64
    let compressedSize: UInt64
    let crc: UInt32
    let mode: UInt32
    let hostSystem: Int
    let flags: Int
    let method: Int
    /// The extended-timestamp field's modification time, when present.
    let utcMtime: Int64?
    /// Whether the central directory's extra data holds a ZIP64 field.
    let zip64: Bool
    /// The content, hex-encoded, after zipfile checked its CRC-32.
    let data: String

    var bytes: [UInt8] {
        var out: [UInt8] = [], chars = Array(data.utf8), i = 0
        while i + 1 < chars.count {
            out.append(UInt8(String(decoding: chars[i...i + 1], as: UTF8.self), radix: 16) ?? 0)
            i += 2
        }
        return out
    }
}

/// Reads `path` with `python3 -c` and `zipfile`: every entry with its content (CRC-checked).
/// Fails the test when python3 is missing or zipfile rejects the archive.
func inspectZip(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [InspectedZipEntry] {
    let script = """
    import json, struct, sys, zipfile
    try:
        with zipfile.ZipFile(sys.argv[1]) as z:
            out = []
            for i in z.infolist():
                ut, zip64, extra = None, False, i.extra
                while len(extra) >= 4:
                    tag, size = struct.unpack('<HH', extra[:4])
                    body = extra[4:4 + size]
                    if tag == 0x5455 and body[0] & 1:
                        ut = struct.unpack('<i', body[1:5])[0]
                    if tag == 1:
                        zip64 = True
                    extra = extra[4 + size:]
                out.append(dict(name=i.filename, size=i.file_size, compressedSize=i.compress_size, crc=i.CRC,
                                mode=i.external_attr >> 16, hostSystem=i.create_system, flags=i.flag_bits,
                                method=i.compress_type, utcMtime=ut, zip64=zip64, data=z.read(i).hex()))
            print(json.dumps(out))
    except Exception as e:
        print(json.dumps(dict(error=repr(e))))
    """
    let result = try runTool("/usr/bin/env", ["python3", "-c", script, path])
    XCTAssertEqual(result.status, 0, "python3 zipfile", file: file, line: line)
    guard let entries = try? JSONDecoder().decode([InspectedZipEntry].self, from: Data(result.stdout.utf8)) else {
        XCTFail("zipfile: \(result.stdout)", file: file, line: line)
        return []
    }
    return entries
}

/// Whether an executable exists at `path` (tools that tests use when installed).
func toolInstalled(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }
