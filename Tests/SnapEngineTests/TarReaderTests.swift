import XCTest
import SnapCore
import SnapEngine
import SnapTestSupport

/// Archives built byte by byte, so that each header field and each malformed case is exact.
private enum TarBytes {
    static func octal(_ value: Int, width: Int) -> [UInt8] {
        let digits = Array(String(value, radix: 8).utf8)
        return Array(repeating: UInt8(ascii: "0"), count: max(0, width - 1 - digits.count)) + digits + [0]
    }

    static func header(_ name: String, type: Character = "0", size: Int = 0, mode: Int = 0o644, mtime: Int = 1_000_000,
                       link: String = "", prefix: String = "", major: Int = 0, minor: Int = 0,
                       patch: (inout [UInt8]) -> Void = { _ in }, checksum: Bool = true) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], _ at: Int) { for (i, b) in bytes.enumerated() { block[at + i] = b } }
        put(Array(name.utf8), 0)
        put(octal(mode, width: 8), 100)
        put(octal(1000, width: 8), 108)
        put(octal(100, width: 8), 116)
        put(octal(size, width: 12), 124)
        put(octal(mtime, width: 12), 136)
        block[156] = UInt8(ascii: type.unicodeScalars.first!)
        put(Array(link.utf8), 157)
        put(Array("ustar\u{0}00".utf8), 257)
        put(Array("alice".utf8), 265)
        put(Array("staff".utf8), 297)
        put(octal(major, width: 8), 329)
        put(octal(minor, width: 8), 337)
        put(Array(prefix.utf8), 345)
        patch(&block)
        if checksum {
            put(Array("        ".utf8), 148)
            put(octal(block.reduce(0) { $0 + Int($1) }, width: 7) + [UInt8(ascii: " ")], 148)
        }
        return block
    }

    static func padded(_ data: [UInt8]) -> [UInt8] { data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512) }

    static func member(_ name: String, type: Character = "0", data: [UInt8] = [], link: String = "",
                       patch: (inout [UInt8]) -> Void = { _ in }) -> [UInt8] {
        header(name, type: type, size: data.count, link: link, patch: patch) + padded(data)
    }

    /// A PAX extended header (`x`, or `g`) holding `records`.
    static func pax(_ records: [(String, [UInt8])], type: Character = "x") -> [UInt8] {
        var data: [UInt8] = []
        for (key, value) in records {
            let body = key.utf8.count + 1 + value.count + 1
            var length = body + 2
            while String(length).count + 1 + body != length { length = String(length).count + 1 + body }
            data += Array("\(length) \(key)=".utf8) + value + [10]
        }
        return member("PaxHeaders/x", type: type, data: data)
    }

    static let end = [UInt8](repeating: 0, count: 1024)
}

final class TarReaderTests: XCTestCase {
    private func reader(_ bytes: [UInt8], step: Int = 1000) -> TarReader {
        var at = 0
        return TarReader { space in
            let n = min(space.count, step, bytes.count - at)
            bytes.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[at..<at + n])) }
            at += n
            return n
        }
    }

    private func members(_ bytes: [UInt8]) throws -> [(entry: TarEntry, content: [UInt8])] {
        let tar = reader(bytes)
        var out: [(TarEntry, [UInt8])] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while let entry = try tar.next() {
            var content: [UInt8] = []
            while true {
                let n = try buffer.withUnsafeMutableBytes { try tar.read(into: $0) }
                if n == 0 { break }
                content += buffer[0..<n]
            }
            out.append((entry, content))
        }
        return out
    }

    private func failure(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> TarError? {
        do {
            _ = try members(bytes)
            XCTFail("read without an error", file: file, line: line)
            return nil
        } catch let error as TarError {
            return error
        } catch {
            XCTFail("not a TarError: \(error)", file: file, line: line)
            return nil
        }
    }

    // ustar fields: prefix + name, types, devices, owners, content with padding; the
    // reader skips content that is not read.
    func testUstarMembers() throws {
        let bytes = TarBytes.member("a.txt", data: Array("hello".utf8), patch: { _ in })
            + TarBytes.header("c", prefix: "deep/prefix", patch: { $0[156] = UInt8(ascii: "0") })
            + TarBytes.member("dir/", type: "5")
            + TarBytes.member("link", type: "2", link: "a.txt")
            + TarBytes.member("hard", type: "1", link: "a.txt")
            + TarBytes.header("null", type: "3", major: 1, minor: 3)
            + TarBytes.member("fifo", type: "6")
            + TarBytes.member("skipped", data: [UInt8](repeating: 7, count: 1500))
            + TarBytes.end
        let all = try members(bytes)
        XCTAssertEqual(all.map { PathBytes.display($0.entry.path) }, ["a.txt", "deep/prefix/c", "dir/", "link", "hard", "null", "fifo", "skipped"])
        XCTAssertEqual(all.map(\.entry.type), [.file, .file, .directory, .symlink, .hardLink, .characterDevice, .fifo, .file])
        XCTAssertEqual(all[0].content, Array("hello".utf8))
        XCTAssertEqual(all[0].entry.mode, 0o644)
        XCTAssertEqual(all[0].entry.uid, 1000)
        XCTAssertEqual(all[0].entry.user, Array("alice".utf8))
        XCTAssertEqual(all[0].entry.mtime, Timestamp(seconds: 1_000_000, nanoseconds: 0))
        XCTAssertEqual(all[3].entry.linkTarget, Array("a.txt".utf8))
        XCTAssertEqual(all[5].entry.rdev, 0x103, "makedev(1, 3)")
        XCTAssertEqual(all[7].content.count, 1500)

        // Content left unread is skipped.
        let tar = reader(bytes)
        var names: [String] = []
        while let entry = try tar.next() { names.append(PathBytes.display(entry.path)) }
        XCTAssertEqual(names.count, 8)
    }

    // PAX records override the header: long paths, link paths, owners, nanosecond and
    // negative times, xattrs in both spellings; global records apply to the members after
    // them until an empty value removes them.
    func testPAXRecords() throws {
        let long = String(repeating: "n", count: 300)
        let bytes = TarBytes.pax([("uname", Array("globaluser".utf8))], type: "g")
            + TarBytes.pax([("path", Array("x/\(long)".utf8)), ("mtime", Array("1700000000.123456789".utf8)),
                            ("atime", Array("-1.25".utf8)), ("uid", Array("4000000000".utf8)),
                            ("SCHILY.xattr.user.a", [0, 1, 255, 10]), ("LIBARCHIVE.xattr.user.b%3Dc", Array("aGk=".utf8)),
                            ("comment", Array("ignored".utf8))])
            + TarBytes.member("short", data: [1, 2, 3])
            + TarBytes.pax([("linkpath", Array(long.utf8)), ("path", [0x6c, 0xff])])
            + TarBytes.member("s", type: "2", link: "short")
            + TarBytes.pax([("uname", [])], type: "g")
            + TarBytes.member("plain")
            + TarBytes.end
        let all = try members(bytes)
        XCTAssertEqual(all.count, 3)
        let first = all[0].entry
        XCTAssertEqual(first.path, Array("x/\(long)".utf8))
        XCTAssertEqual(first.mtime, Timestamp(seconds: 1_700_000_000, nanoseconds: 123_456_789))
        XCTAssertEqual(first.atime, Timestamp(seconds: -2, nanoseconds: 750_000_000))
        XCTAssertEqual(first.uid, 4_000_000_000)
        XCTAssertEqual(first.user, Array("globaluser".utf8))
        XCTAssertEqual(first.xattrs, [ExtendedAttribute(name: Array("user.a".utf8), value: [0, 1, 255, 10]),
                                      ExtendedAttribute(name: Array("user.b=c".utf8), value: Array("hi".utf8))])
        XCTAssertEqual(all[0].content, [1, 2, 3])
        XCTAssertEqual(all[1].entry.path, [0x6c, 0xff], "names are raw bytes")
        XCTAssertEqual(all[1].entry.linkTarget, Array(long.utf8))
        XCTAssertEqual(all[1].entry.user, Array("globaluser".utf8))
        XCTAssertEqual(all[2].entry.user, Array("alice".utf8), "the global record was removed")
    }

    // GNU long names and links (L, K), and base-256 numbers (a negative mtime, a size).
    func testGNULongNamesAndBase256() throws {
        let long = String(repeating: "g", count: 250)
        func base256(_ value: Int64, into block: inout [UInt8], at: Int, width: Int) {
            for i in 0..<width { block[at + width - 1 - i] = UInt8(truncatingIfNeeded: value >> (8 * Int64(i))) }
            if value >= 0 { block[at] = 0x80 }
        }
        let bytes = TarBytes.member("././@LongLink", type: "L", data: Array(long.utf8) + [0])
            + TarBytes.member("././@LongLink", type: "K", data: Array("target/\(long)".utf8) + [0])
            + TarBytes.header("truncated", type: "2", patch: { base256(-86400, into: &$0, at: 136, width: 12) })
            + TarBytes.header("sized", size: 0, patch: { base256(3, into: &$0, at: 124, width: 12) }) + TarBytes.padded([7, 8, 9])
            // Go's archive/tar given an fs.FileMode (kopia's tar output): type bits above the permissions.
            + TarBytes.header("go-dir", type: "5", patch: { base256(1 << 31 | 0o755, into: &$0, at: 100, width: 8) })
            + TarBytes.end
        let all = try members(bytes)
        XCTAssertEqual(all[0].entry.path, Array(long.utf8))
        XCTAssertEqual(all[0].entry.linkTarget, Array("target/\(long)".utf8))
        XCTAssertEqual(all[0].entry.mtime.seconds, -86400)
        XCTAssertEqual(all[1].content, [7, 8, 9])
        XCTAssertEqual(all[2].entry.mode, 0o755)
    }

    // Sparse files as GNU tar writes them (old GNU, PAX 0.0, 0.1, 1.0) read back with
    // their holes as zeros, byte for byte.
    func testGNUSparseFormatsMatchTheFile() throws {
        let folder = try TemporaryDirectory(prefix: "snap-tar-sparse")
        defer { folder.remove() }
        let path = folder.appending("holes")
        var content = [UInt8](repeating: 0, count: 3 << 20)
        for (offset, byte) in [(5000, UInt8(1)), (1 << 20, 2), (2_999_999, 3)] {
            for i in 0..<700 { content[offset + i] = byte &+ UInt8(truncatingIfNeeded: i) }
        }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        for (offset, _) in [(5000, 0), (1 << 20, 0), (2_999_999, 0)] {
            try handle.seek(toOffset: UInt64(offset))
            handle.write(Data(content[offset..<offset + 700]))
        }
        try handle.truncate(atOffset: UInt64(content.count))
        try handle.close()
        for format in [["--format=gnu"], ["--format=posix", "--sparse-version=0.0"], ["--format=posix", "--sparse-version=0.1"],
                       ["--format=posix", "--sparse-version=1.0"]] {
            let archive = folder.appending("a.tar")
            let made = try runTool("/usr/bin/tar", format + ["--sparse", "-C", folder.path, "-cf", archive, "holes"])
            XCTAssertEqual(made.status, 0)
            let all = try members(Array(try Data(contentsOf: URL(fileURLWithPath: archive))))
            XCTAssertEqual(all.count, 1, "\(format)")
            XCTAssertEqual(all.first?.entry.path, Array("holes".utf8), "\(format)")
            XCTAssertNotNil(all.first?.entry.sparse, "\(format): read as sparse")
            XCTAssertEqual(all.first?.entry.size, UInt64(content.count), "\(format)")
            XCTAssertTrue(all.first?.content == content, "\(format): content differs")
        }
    }

    // Hostile or damaged input: one clear error naming the offset (and the member once
    // known), never a crash, a hang or a short file.
    func testMalformedStreamsFailClearly() throws {
        let good = TarBytes.member("a", data: Array("abc".utf8))
        var badChecksum = good
        badChecksum[0] = UInt8(ascii: "b")
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "the stream is empty"),
            ("bad checksum", badChecksum + TarBytes.end, "bad header checksum"),
            ("second header damaged", good + badChecksum, "bad header checksum"),
            ("truncated header", Array(good.prefix(300)), "ends inside a header block"),
            ("truncated content", Array(TarBytes.member("a", data: [UInt8](repeating: 1, count: 2000)).prefix(1000)), "ends inside this member's content"),
            ("huge extended header", TarBytes.header("x", type: "x", size: 1 << 30), "extended header of 1073741824 bytes"),
            ("malformed record", TarBytes.member("x", type: "x", data: Array("99 path=a\n".utf8)) + good, "malformed PAX record"),
            // Found by the fuzzer: a 20-digit record length overflowed while it was parsed.
            ("huge record length", TarBytes.member("x", type: "x", data: Array("99999999999999999999 path=a\n".utf8)) + good, "malformed PAX record"),
            ("sparse file too large", TarBytes.pax([("GNU.sparse.size", Array("99999999999999999".utf8)), ("GNU.sparse.map", Array("0,3".utf8))]) + good,
             "at most 17592186044416"),
            ("record without key", TarBytes.member("x", type: "x", data: Array("7 =abc\n".utf8)) + good, "without a key"),
            ("bad time", TarBytes.pax([("mtime", Array("12x".utf8))]) + good, "mtime"),
            ("bad number", TarBytes.header("a", patch: { $0.replaceSubrange(124..<136, with: Array("12345678x01\0".utf8)) }), "malformed size field"),
            ("dangling extended header", TarBytes.pax([("path", Array("p".utf8))]), "after an extended header"),
            ("sparse map mismatch", TarBytes.pax([("GNU.sparse.size", Array("100".utf8)), ("GNU.sparse.map", Array("0,10".utf8))]) + good,
             "describes 10 bytes of data but the member holds 3"),
            ("sparse past the end", TarBytes.pax([("GNU.sparse.size", Array("2".utf8)), ("GNU.sparse.map", Array("1,3".utf8))]) + good,
             "run past the file's size"),
            ("sparse odd map", TarBytes.pax([("GNU.sparse.size", Array("2".utf8)), ("GNU.sparse.map", Array("1".utf8))]) + good, "odd number"),
            ("sparse 1.0 map too big", TarBytes.pax([("GNU.sparse.major", Array("1".utf8)), ("GNU.sparse.realsize", Array("9".utf8))])
                + TarBytes.member("s", data: TarBytes.padded(Array("99999999\n".utf8))), "more than"),
            ("multi-volume", TarBytes.member("m", type: "M"), "multi-volume"),
            ("bad base64", TarBytes.pax([("LIBARCHIVE.xattr.user.a", Array("!!".utf8))]) + good, "base64"),
        ]
        for (label, bytes, expected) in cases {
            guard let error = failure(bytes) else { continue }
            XCTAssertTrue(error.description.contains(expected), "\(label): \(error)")
            XCTAssertFalse(error.description.contains("\n"), "\(label): one line")
        }
        // The member is named once known.
        let named = failure(TarBytes.member("first/name", data: [1]) + Array(TarBytes.member("second", data: [UInt8](repeating: 2, count: 900)).prefix(700)))
        XCTAssertEqual(named?.entry, "second")
        XCTAssertEqual(named?.offset, 1024)
    }

    // No end-of-archive blocks (a stream cut at a member boundary) reads as the members
    // it holds, as tar reads it; data after the end blocks is drained, not parsed.
    func testEndOfArchive() throws {
        XCTAssertEqual(try members(TarBytes.member("a", data: [1])).count, 1)
        XCTAssertEqual(try members(TarBytes.member("a") + TarBytes.end + [UInt8](repeating: 0x41, count: 5000)).count, 1)
    }

    // Random damage to a valid archive gives members or a TarError, never a crash or hang.
    func testRandomDamageNeverCrashes() throws {
        let archive = TarBytes.pax([("path", Array("p/q".utf8)), ("SCHILY.xattr.user.k", [1, 2])])
            + TarBytes.member("a", data: seededBytes(count: 1200, seed: 1))
            + TarBytes.pax([("GNU.sparse.major", Array("1".utf8)), ("GNU.sparse.minor", Array("0".utf8)),
                            ("GNU.sparse.name", Array("sp".utf8)), ("GNU.sparse.realsize", Array("5000".utf8))])
            + TarBytes.member("GNUSparseFile.0/sp", data: TarBytes.padded(Array("1\n100\n4\n".utf8)) + [9, 9, 9, 9])
            + TarBytes.member("l", type: "2", link: "a")
            + TarBytes.end
        XCTAssertEqual(try members(archive).count, 3)
        var generator = SplitMix64(seed: 21)  // seeded: a failure reproduces
        for _ in 0..<3000 {
            var damaged = archive
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                damaged[Int.random(in: 0..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { damaged = Array(damaged.prefix(Int.random(in: 0..<damaged.count, using: &generator))) }
            do { _ = try members(damaged) } catch is TarError {}
        }
    }
}
