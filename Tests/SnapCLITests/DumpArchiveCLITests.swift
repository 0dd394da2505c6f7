import Foundation
import SnapTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: `snap dump --archive zip` and sparse tar, extracted by real tools and compared
/// with what `snap restore` writes.
final class DumpArchiveCLITests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("dump")
        snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init", "-r", "\(work)/repo"])
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// Differences between a restored tree and one extracted from a zip: kinds, file bytes,
    /// modes and mtimes (zip keeps whole seconds), link targets. Fifos are not in zip.
    private func zipDifferences(restored: String, extracted: String) throws -> [String] {
        var differences: [String] = []
        let manager = FileManager.default
        let want = Set(try manager.subpathsOfDirectory(atPath: restored)), have = Set(try manager.subpathsOfDirectory(atPath: extracted))
        for path in want.union(have).sorted() {
            var a = stat(), b = stat()
            guard lstat("\(restored)/\(path)", &a) == 0, a.st_mode & S_IFMT != S_IFIFO else { continue }
            guard lstat("\(extracted)/\(path)", &b) == 0 else { differences.append("\(path): missing"); continue }
            guard a.st_mode & S_IFMT == b.st_mode & S_IFMT else { differences.append("\(path): type"); continue }
            switch a.st_mode & S_IFMT {
            case S_IFLNK:
                if try manager.destinationOfSymbolicLink(atPath: "\(restored)/\(path)") != manager.destinationOfSymbolicLink(atPath: "\(extracted)/\(path)") {
                    differences.append("\(path): link target")
                }
            case S_IFREG:
                if manager.contents(atPath: "\(restored)/\(path)") != manager.contents(atPath: "\(extracted)/\(path)") { differences.append("\(path): content") }
                if a.st_mtim.tv_sec != b.st_mtim.tv_sec { differences.append("\(path): mtime") }
                fallthrough
            default:
                if a.st_mode & 0o7777 != b.st_mode & 0o7777 { differences.append("\(path): mode") }
            }
        }
        return differences
    }

    // zip to a file (unzip) and to standard output (bsdtar reading the pipe): the same bytes,
    // modes, times and links as restore; the fifo is left out with a warning.
    func testZipMatchesRestore() throws {
        let repo = "\(work)/repo", src = "\(work)/src"
        try FileManager.default.createDirectory(atPath: "\(src)/sub", withIntermediateDirectories: true)
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: "\(src)/sub/big"))
        try "hello\n".write(toFile: "\(src)/a.txt", atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod("\(src)/a.txt", 0o600), 0)
        try FileManager.default.createSymbolicLink(atPath: "\(src)/sub/link", withDestinationPath: "big")
        try FileManager.default.linkItem(atPath: "\(src)/sub/big", toPath: "\(src)/hard")
        XCTAssertEqual(mkfifo("\(src)/fifo", 0o644), 0)
        try snap.expect(0, ["-r", repo, "backup", src])
        try snap.expect(0, ["-r", repo, "restore", "latest", "--target", "\(work)/restored"])

        let dumped = try snap.expect(0, ["-r", repo, "dump", "latest", src, "--archive", "zip", "--target", "\(work)/all.zip"])
        XCTAssertEqual(dumped.stderr, "warning: \(src)/fifo is a fifo: zip has no place for it, left out\n")
        var extracted: [(String, String)] = []
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip") {
            XCTAssertEqual(try runTool("/usr/bin/unzip", ["-q", "\(work)/all.zip", "-d", "\(work)/unzip"]).status, 0)
            extracted.append(("unzip", "\(work)/unzip"))
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/bsdtar") {
            try FileManager.default.createDirectory(atPath: "\(work)/bsdtar", withIntermediateDirectories: false)
            let piped = try snap.run(["-r", repo, "dump", "latest", src, "--archive", "zip"],
                                     prefix: ["/bin/bash", "-c", "set -o pipefail; \"$0\" \"$@\" | /usr/bin/bsdtar -x -f - -C \"$INTO\""],
                                     extraEnvironment: ["INTO": "\(work)/bsdtar"])
            XCTAssertEqual(piped.status, 0, piped.stderr)
            extracted.append(("bsdtar", "\(work)/bsdtar"))
        }
        if extracted.isEmpty {
            // No extracting tool: python3's zipfile still checks every entry's CRC and bytes.
            let check = try runTool("/usr/bin/env", ["python3", "-c", "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).testzip())", "\(work)/all.zip"])
            XCTAssertEqual(check.stdout, "None\n")
        }
        for (tool, folder) in extracted {
            XCTAssertEqual(try zipDifferences(restored: "\(work)/restored\(src)", extracted: "\(folder)\(src)"), [], tool)
        }

        let rar = try snap.run(["-r", repo, "dump", "latest", src, "--archive", "rar"])
        XCTAssertEqual(rar.status, 64)
        XCTAssertEqual(rar.stderr.split(separator: "\n").first, "Error: --archive rar is not supported; use tar or zip", rar.stderr)
    }

    // A 40 MiB file that is mostly a hole, with the default chunker: tar's sparse member
    // keeps the archive small, and GNU tar extracts the same bytes with the holes back.
    func testSparseTarThroughGnuTar() throws {
        let repo = "\(work)/repo", src = "\(work)/src"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        let file = "\(src)/disk.img"
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: file))
        try handle.write(contentsOf: Data(repeating: 0xab, count: 70_000))
        try handle.seek(toOffset: 30 << 20)
        try handle.write(contentsOf: Data(repeating: 0xcd, count: 70_000))
        try handle.truncate(atOffset: 40 << 20)
        try handle.close()
        try snap.expect(0, ["-r", repo, "backup", src])
        try snap.expect(0, ["-r", repo, "dump", "latest", src, "--target", "\(work)/all.tar"])
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: "\(work)/all.tar")[.size] as? Int)
        XCTAssertLessThan(size, 20 << 20, "at least the repeated zero chunks are holes in the archive")
        try FileManager.default.createDirectory(atPath: "\(work)/out", withIntermediateDirectories: false)
        XCTAssertEqual(try runTool("/bin/tar", ["-x", "-f", "\(work)/all.tar", "-C", "\(work)/out"]).status, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: "\(work)/out\(file)"), FileManager.default.contents(atPath: file))
        var info = stat()
        XCTAssertEqual(stat("\(work)/out\(file)", &info), 0)
        XCTAssertLessThan(Int(info.st_blocks) * 512, 20 << 20, "the extracted file has holes")
        // The file alone into a file: the same bytes, the zero runs left as holes (also the
        // trailing one: the length is set at the end).
        try snap.expect(0, ["-r", repo, "dump", "latest", file, "--target", "\(work)/alone.img"])
        XCTAssertEqual(FileManager.default.contents(atPath: "\(work)/alone.img"), FileManager.default.contents(atPath: file))
        XCTAssertEqual(stat("\(work)/alone.img", &info), 0)
        XCTAssertEqual(info.st_size, 40 << 20)
        XCTAssertLessThan(Int(info.st_blocks) * 512, 20 << 20, "dump --target leaves holes")
    }

    // POSIX ACLs go into the tar as `SCHILY.acl.*` text, which GNU tar and bsdtar set on
    // extraction (a raw `system.posix_acl_*` record they drop, and the group bits, which
    // hold the mask, would widen the owning group's rights); the archive, and GNU tar's
    // own, import back with the same ACLs.
    func testACLsReachTarToolsAndComeBack() throws {
        let script = """
            set -e; cd \(work); mkdir -p src/d out-gnu out-bsd
            echo x > src/f; chmod 640 src/f
            setfacl -m u:1234:rw-,u:99999:rwx,g:5678:r-- src/f
            setfacl -m u:1234:r-x -d -m u:1234:rwx,g:5678:r-x src/d
            """
        guard try runTool("/bin/bash", ["-c", script]).status == 0 else { throw XCTSkip("setfacl is missing or this file system has no ACLs") }
        func acls(_ root: String) throws -> String {
            try runTool("/bin/bash", ["-c", "cd \(root) && getfacl -R -n -p --omit-header f d"]).stdout
        }
        let expected = try acls("\(work)/src")
        XCTAssertTrue(expected.contains("user:99999:rwx") && expected.contains("default:group:5678:r-x"), expected)
        try snap.expect(0, ["-r", "\(work)/repo", "backup", "\(work)/src"])
        try snap.expect(0, ["-r", "\(work)/repo", "dump", "latest", "\(work)/src", "--target", "\(work)/all.tar"])
        XCTAssertEqual(try runTool("/bin/tar", ["--acls", "-xpf", "\(work)/all.tar", "-C", "\(work)/out-gnu"]).status, 0)
        XCTAssertEqual(try acls("\(work)/out-gnu\(work)/src"), expected, "GNU tar")
        XCTAssertEqual(try runTool("/usr/bin/bsdtar", ["--acls", "-xpf", "\(work)/all.tar", "-C", "\(work)/out-bsd"]).status, 0)
        XCTAssertEqual(try acls("\(work)/out-bsd\(work)/src"), expected, "bsdtar")

        // Back in through --stdin-tar: snap's archive, and GNU tar's (names where it knows them).
        XCTAssertEqual(try runTool("/bin/tar", ["--acls", "-cf", "\(work)/gnu.tar", "-C", "\(work)/src", "f", "d"]).status, 0)
        for (archive, folder) in [("all.tar", "\(work)/src"), ("gnu.tar", "")] {
            let imported = try snap.run([], prefix: ["/bin/bash", "-c", "\"$0\" -r \(work)/repo backup --stdin-tar < \(work)/\(archive)"])
            XCTAssertEqual(imported.status, 0, imported.stderr)
            XCTAssertFalse(imported.stderr.contains("SCHILY.acl"), imported.stderr)
            try? FileManager.default.removeItem(atPath: "\(work)/back")
            try snap.expect(0, ["-r", "\(work)/repo", "restore", "latest", "--target", "\(work)/back"])
            XCTAssertEqual(try acls("\(work)/back\(folder)"), expected, archive)
        }
    }

    // An attribute name holding `=` or `%` is written as GNU tar writes it (`%3D`, `%25`):
    // GNU tar gives it back under its own name, and --stdin-tar reads it back. (bsdtar 3.6
    // does not decode these, in GNU tar's own archives either.)
    func testXattrNamesWithEqualsAndPercent() throws {
        let script = "set -e; mkdir -p \(work)/src \(work)/out-gnu; echo x > \(work)/src/f; setfattr -n 'user.a=b%25c' -v val \(work)/src/f"
        guard try runTool("/bin/bash", ["-c", script]).status == 0 else { throw XCTSkip("setfattr is missing or user xattrs are not supported here") }
        func attributes(_ file: String) throws -> String {
            try runTool("/bin/bash", ["-c", "getfattr --absolute-names -d -m '^user\\.' \(file) | grep -v '^#'"]).stdout
        }
        let expected = try attributes("\(work)/src/f")
        XCTAssertTrue(expected.contains("user.a\\075b%25c=\"val\""), expected)  // getfattr writes = as \075
        try snap.expect(0, ["-r", "\(work)/repo", "backup", "\(work)/src"])
        try snap.expect(0, ["-r", "\(work)/repo", "dump", "latest", "\(work)/src", "--target", "\(work)/all.tar"])
        XCTAssertEqual(try runTool("/bin/tar", ["--xattrs", "--xattrs-include=*", "-xpf", "\(work)/all.tar", "-C", "\(work)/out-gnu"]).status, 0)
        XCTAssertEqual(try attributes("\(work)/out-gnu\(work)/src/f"), expected, "GNU tar")
        let imported = try snap.run([], prefix: ["/bin/bash", "-c", "\"$0\" -r \(work)/repo backup --stdin-tar < \(work)/all.tar"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        try snap.expect(0, ["-r", "\(work)/repo", "restore", "latest", "--target", "\(work)/back"])
        XCTAssertEqual(try attributes("\(work)/back\(work)/src/f"), expected, "imported back")
    }

    // Times before 1970 with nanoseconds: the pax mtime counts back from the next second
    // (-0.000000001, not -1.999999999), and GNU tar and python's tarfile read back the
    // times the files had.
    func testTarMtimesBefore1970() throws {
        let repo = "\(work)/repo", src = "\(work)/src"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        let times: [(name: String, seconds: Int, nanoseconds: Int, pax: String)] = [
            ("last-ns-of-1969", -1, 999_999_999, "-0.000000001"),
            ("1920", -1_576_800_000, 123_456_789, "-1576799999.876543211"),
            ("whole-second", -1, 0, "-1.000000000"),
            ("epoch", 0, 0, "0.000000000"),
            ("one-and-a-half", 1, 500_000_000, "1.500000000"),
        ]
        for entry in times {
            let path = "\(src)/\(entry.name)"
            try "x".write(toFile: path, atomically: false, encoding: .utf8)
            let stamp = timespec(tv_sec: entry.seconds, tv_nsec: entry.nanoseconds)
            var both = [stamp, stamp]
            XCTAssertEqual(utimensat(AT_FDCWD, path, &both, 0), 0, entry.name)
        }
        try snap.expect(0, ["-r", repo, "backup", src])
        try snap.expect(0, ["-r", repo, "dump", "latest", src, "--target", "\(work)/all.tar"])

        let archive = String(decoding: try XCTUnwrap(FileManager.default.contents(atPath: "\(work)/all.tar")), as: UTF8.self)
        for entry in times {
            XCTAssertTrue(archive.contains(" mtime=\(entry.pax)\n"), "\(entry.name): no mtime=\(entry.pax)")
        }
        XCTAssertFalse(archive.contains("mtime=-1.999999999"))

        // python's tarfile reads the pax mtime as a float: within a microsecond is exact enough.
        let script = "import sys, tarfile\nfor m in tarfile.open(sys.argv[1]):\n    print(m.name.rsplit('/', 1)[-1], repr(m.mtime))"
        let python = try runTool("/usr/bin/env", ["python3", "-c", script, "\(work)/all.tar"])
        XCTAssertEqual(python.status, 0)
        let read = Dictionary(python.stdout.split(separator: "\n").map { line -> (String, Double) in
            let parts = line.split(separator: " ")
            return (String(parts[0]), Double(String(parts[1])) ?? .nan)
        }, uniquingKeysWith: { a, _ in a })
        for entry in times {
            let want = Double(entry.seconds) + Double(entry.nanoseconds) / 1e9
            XCTAssertEqual(try XCTUnwrap(read[entry.name], entry.name), want, accuracy: 1e-6, entry.name)
        }

        try FileManager.default.createDirectory(atPath: "\(work)/out", withIntermediateDirectories: false)
        XCTAssertEqual(try runTool("/bin/tar", ["-x", "-f", "\(work)/all.tar", "-C", "\(work)/out"]).status, 0)
        for entry in times {
            var info = stat()
            XCTAssertEqual(lstat("\(work)/out\(src)/\(entry.name)", &info), 0, entry.name)
            XCTAssertEqual(info.st_mtim.tv_sec, entry.seconds, entry.name)
            XCTAssertEqual(info.st_mtim.tv_nsec, entry.nanoseconds, entry.name)
        }
    }
}
