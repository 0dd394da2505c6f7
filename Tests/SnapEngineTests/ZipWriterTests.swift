@testable import SnapEngine
import Foundation
import SnapTestSupport
import XCTest

/// The streaming zip writer, read back by independent readers: Python's zipfile (central
/// directory), bsdtar (local headers and data descriptors, as a stream) and unzip.
final class ZipWriterTests: XCTestCase {
    private var work: TemporaryDirectory!

    override func setUpWithError() throws { work = try TemporaryDirectory(prefix: "snap-zip") }
    override func tearDown() { work.remove() }

    private let random = seededBytes(count: 200_000, seed: 7)
    private let text = Array(String(repeating: "a line of text that deflates well\n", count: 3000).utf8)
    private let mtime: Int64 = 1_600_000_123

    /// A folder, a file in three pieces, an empty file, a UTF-8 name and a symbolic link.
    private func writeSample(zip64Threshold: UInt64 = 0xFFFF_FFFF, spillSize: Int = 1 << 20) throws -> String {
        let path = work.appending("sample.zip")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        let zip = try ZipWriter(output: { handle.write(Data($0)) }, zip64Threshold: zip64Threshold)
        zip.spillSize = spillSize
        try zip.add(ZipWriter.Entry(name: Array("d".utf8), type: .directory, mode: 0o750, mtimeSeconds: mtime))
        try zip.beginFile(ZipWriter.Entry(name: Array("d/a.bin".utf8), type: .file, mode: 0o640, mtimeSeconds: mtime + 2),
                          size: UInt64(random.count + text.count + 1))
        try zip.write(random)
        try zip.write(text)
        try zip.write([7])
        try zip.finishFile()
        try zip.beginFile(ZipWriter.Entry(name: Array("d/empty".utf8), type: .file, mode: 0o600, mtimeSeconds: mtime), size: 0)
        try zip.finishFile()
        try zip.beginFile(ZipWriter.Entry(name: Array("d/é.txt".utf8), type: .file, mode: 0o755, mtimeSeconds: mtime), size: 3)
        try zip.write(Array("abc".utf8))
        try zip.finishFile()
        try zip.add(ZipWriter.Entry(name: Array("d/link".utf8), type: .symlink, mode: 0o777, mtimeSeconds: mtime), content: Array("a.bin".utf8))
        try zip.finish()
        return path
    }

    func testZipfileReadsEntriesModesTimesAndLinks() throws {
        let entries = try inspectZip(try writeSample())
        XCTAssertEqual(entries.map(\.name), ["d/", "d/a.bin", "d/empty", "d/é.txt", "d/link"])
        XCTAssertEqual(entries.map(\.mode), [0o040750, 0o100640, 0o100600, 0o100755, 0o120777])
        XCTAssertEqual(entries.map(\.utcMtime), [mtime, mtime + 2, mtime, mtime, mtime])
        XCTAssertEqual(entries.map(\.hostSystem), [3, 3, 3, 3, 3], "made by Unix")
        XCTAssertEqual(entries.map(\.method), [0, 8, 8, 8, 0], "files deflated, folders and links stored")
        XCTAssertEqual(entries.map { $0.flags & 0x808 }, [0x800, 0x808, 0x808, 0x808, 0x800], "UTF-8 names; data descriptors for files")
        XCTAssertEqual(entries.map(\.zip64), [false, false, false, false, false])
        XCTAssertEqual(entries[1].bytes, random + text + [7])
        XCTAssertLessThan(entries[1].compressedSize, entries[1].size, "deflated")
        XCTAssertEqual(entries[2].bytes, [])
        XCTAssertEqual(entries[3].bytes, Array("abc".utf8))
        XCTAssertEqual(entries[4].bytes, Array("a.bin".utf8))
    }

    // A central directory moved to a temporary file at every record reads back the same,
    // entry for entry, with ZIP64 fields too.
    func testCentralDirectoryFromATemporaryFileReadsTheSame() throws {
        let inMemory = try inspectZip(try writeSample())
        for threshold: UInt64 in [0xFFFF_FFFF, 0] {
            let spilled = try inspectZip(try writeSample(zip64Threshold: threshold, spillSize: 1))
            XCTAssertEqual(spilled.map(\.name), inMemory.map(\.name))
            XCTAssertEqual(spilled.map(\.mode), inMemory.map(\.mode))
            XCTAssertEqual(spilled.map(\.utcMtime), inMemory.map(\.utcMtime))
            XCTAssertEqual(spilled.map(\.bytes), inMemory.map(\.bytes))
            XCTAssertEqual(spilled.map(\.zip64), Array(repeating: threshold == 0, count: inMemory.count))
        }
    }

    // Without a temporary folder to write to, the directory stays in memory: the same archive.
    func testCentralDirectoryStaysInMemoryWhenNoTemporaryFileCanBeWritten() throws {
        let inMemory = try inspectZip(try writeSample())
        let saved = getenv("TMPDIR").map { String(cString: $0) }
        setenv("TMPDIR", work.appending("no-such-folder"), 1)
        defer { if let saved { setenv("TMPDIR", saved, 1) } else { unsetenv("TMPDIR") } }
        let kept = try inspectZip(try writeSample(spillSize: 1))
        XCTAssertEqual(kept.map(\.name), inMemory.map(\.name))
        XCTAssertEqual(kept.map(\.bytes), inMemory.map(\.bytes))
    }

    // With every size and offset forced into ZIP64 fields: zipfile reads the central
    // directory through them, bsdtar reads the stream through the local headers and the
    // 8-byte data descriptors.
    func testForcedZip64ReadsBack() throws {
        let path = try writeSample(zip64Threshold: 0)
        let entries = try inspectZip(path)
        XCTAssertEqual(entries.map(\.zip64), [true, true, true, true, true])
        XCTAssertEqual(entries.map(\.name), ["d/", "d/a.bin", "d/empty", "d/é.txt", "d/link"])
        XCTAssertEqual(entries[1].bytes, random + text + [7])
        let stream = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertNotNil(stream.range(of: Data([0x50, 0x4b, 0x06, 0x06])), "ZIP64 end of central directory")
        XCTAssertNotNil(stream.range(of: Data([0x50, 0x4b, 0x06, 0x07])), "its locator")
        try extractAndCompare(path)
    }

    func testStreamingReadersExtractTheSample() throws {
        try extractAndCompare(try writeSample())
    }

    /// bsdtar reading from a pipe (so only forward, through local headers and descriptors)
    /// and unzip (through the central directory) give the same files, modes, times and link.
    private func extractAndCompare(_ path: String) throws {
        var readers: [(String, String)] = []
        if toolInstalled("/usr/bin/bsdtar") { readers.append(("bsdtar", "cat '\(path)' | /usr/bin/bsdtar -x -f - -C '%@'")) }
        if toolInstalled("/usr/bin/unzip") { readers.append(("unzip", "/usr/bin/unzip -q '\(path)' -d '%@'")) }
        if readers.isEmpty { throw XCTSkip("neither bsdtar nor unzip is installed") }
        for (reader, command) in readers {
            let target = work.appending(reader)
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
            let result = try runTool("/bin/sh", ["-c", command.replacingOccurrences(of: "%@", with: target)])
            XCTAssertEqual(result.status, 0, reader)
            XCTAssertEqual(FileManager.default.contents(atPath: "\(target)/d/a.bin").map { Array($0) }, random + text + [7], reader)
            XCTAssertEqual(FileManager.default.contents(atPath: "\(target)/d/é.txt"), Data("abc".utf8), reader)
            XCTAssertEqual(FileManager.default.contents(atPath: "\(target)/d/empty"), Data(), reader)
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "\(target)/d/link"), "a.bin", reader)
            var info = stat()
            XCTAssertEqual(stat("\(target)/d/a.bin", &info), 0)
            XCTAssertEqual(info.st_mode & 0o7777, 0o640, reader)
            XCTAssertEqual(Int64(info.st_mtim.tv_sec), mtime + 2, reader)
            XCTAssertEqual(stat("\(target)/d/é.txt", &info), 0)
            XCTAssertEqual(info.st_mode & 0o7777, 0o755, reader)
        }
    }

    // A file of more than 4 GiB (zeros, so the archive stays a few MiB) through the real
    // ZIP64 thresholds, read back by zipfile and, forward only, by bsdtar. About half a
    // minute: set SNAP_SLOW_TESTS=1.
    func testFileOverFourGiB() throws {
        guard ProcessInfo.processInfo.environment["SNAP_SLOW_TESTS"] == "1" else { throw XCTSkip("set SNAP_SLOW_TESTS=1") }
        let path = work.appending("big.zip")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        let zip = try ZipWriter(output: { handle.write(Data($0)) })
        let piece = [UInt8](repeating: 0, count: 8 << 20)
        let size: UInt64 = (4 << 30) + (1 << 20)
        try zip.beginFile(ZipWriter.Entry(name: Array("big".utf8), type: .file, mode: 0o644, mtimeSeconds: mtime), size: size)
        var left = size
        while left > 0 {
            let n = Int(min(left, UInt64(piece.count)))
            try zip.write(n == piece.count ? piece : Array(piece.prefix(n)))
            left -= UInt64(n)
        }
        try zip.finishFile()
        try zip.add(ZipWriter.Entry(name: Array("after".utf8), type: .symlink, mode: 0o777, mtimeSeconds: mtime), content: Array("big".utf8))
        try zip.finish()
        try handle.close()
        let script = """
        import sys, zipfile, zlib
        with zipfile.ZipFile(sys.argv[1]) as z:
            big, after = z.infolist()
            crc, n = 0, 0
            with z.open(big) as f:
                while True:
                    b = f.read(1 << 24)
                    if not b: break
                    crc, n = zlib.crc32(b, crc), n + len(b)
            print(big.file_size, n, crc == big.CRC, after.header_offset > 2**32, z.read(after).decode())
        """
        let result = try runTool("/usr/bin/env", ["python3", "-c", script, path])
        XCTAssertEqual(result.stdout, "\(size) \(size) True False big\n")
        if toolInstalled("/usr/bin/bsdtar") {  // forward only: the local ZIP64 field and the 8-byte data descriptor
            let streamed = try runTool("/bin/sh", ["-c", "cat '\(path)' | /usr/bin/bsdtar -x -O -f - big | wc -c"])
            XCTAssertEqual(streamed.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "\(size)")
        }
    }
}
