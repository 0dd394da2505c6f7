import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
import SnapTestSupport

/// End-to-end against the real restic (0.14 from Debian, /usr/bin/restic): the same tree,
/// the same exclude files and flags; what each tool backs up (restored in full and listed)
/// and what each restores with --include/--exclude must be the same set of paths.
/// Skipped when restic is not installed (scripts/install-deps.sh installs it).
final class ResticExcludeComparisonTests: XCTestCase {
    static let restic = "/usr/bin/restic"
    var work = ""
    var data = ""
    var snap = SnapProcess(environment: [:])
    var resticEnvironment: [String: String] = [:]

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.restic) else {
            throw XCTSkip("restic is not installed at \(Self.restic) (scripts/install-deps.sh installs it); comparison skipped")
        }
        work = try makeTemporaryFolder("restic-exclude")
        data = "\(work)/data"
        try buildTree()
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/snap-repo", "SNAP_PASSWORD": "pw", "DATA": data])
        try snap.expect(0, ["init"])
        resticEnvironment = ProcessInfo.processInfo.environment
        resticEnvironment["RESTIC_PASSWORD"] = "pw"
        resticEnvironment["RESTIC_REPOSITORY"] = "\(work)/restic-repo"
        resticEnvironment["RESTIC_CACHE_DIR"] = "\(work)/restic-cache"
        resticEnvironment["DATA"] = data
        XCTAssertEqual(try restic(["init"]), 0)
    }

    override func tearDownWithError() throws {
        if !work.isEmpty { try? FileManager.default.removeItem(atPath: work) }
    }

    private func restic(_ arguments: [String]) throws -> Int32 {
        try runTool(Self.restic, arguments + ["--no-cache"], environment: resticEnvironment).status
    }

    private func write(_ relative: String, _ text: String = "x\n") throws {
        let path = "\(data)/\(relative)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    private func buildTree() throws {
        try write("home/me/Documents/a.txt")
        try write("home/me/Documents/b c.txt")
        try write("home/me/Documents/sub/d.txt")
        try write("home/me/Documents/README.MD")
        try write("home/me/Music/x.mp3")
        try write("home/me/.cache/CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n")
        try write("home/me/.cache/blob.bin")
        try write("home/me/fake-cache/CACHEDIR.TAG", "Signature: not the one\n")
        try write("home/me/fake-cache/kept.bin")
        try write("home/me/proj/build/.nobackup", "")
        try write("home/me/proj/build/out.o")
        try write("home/me/proj/src/main.c")
        try write("home/me/proj/src/main.o")
        try write("home/me/my docs/file one.txt")
        try write("home/me/my docs/file two.txt")
        try write("lib/py311/config-3.11-x86_64-linux-gnu/Makefile")
        try write("lib/py311/site/x.py")
        try write("lib/other/config-3.11-x86_64-linux-gnu/Makefile")
        try write("home/me/big.iso", String(repeating: "0123456789abcdef", count: 20_000))
        // A name that is not UTF-8 (Latin-1 "café.txt").
        let name = Array("\(data)/home/me/Documents/caf".utf8) + [0xE9] + Array(".txt".utf8) + [0]
        let fd = name.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
    }

    /// Paths below `folder`, relative to it, sorted (invalid UTF-8 shown the same way for both tools).
    private func listing(_ folder: String) throws -> [String] {
        let out = try runTool("/usr/bin/find", [folder, "-mindepth", "1", "-printf", "%P\\n"]).stdout
        return out.split(separator: "\n").map(String.init).sorted()
    }

    /// Backs up `data` with `flags` in both tools, restores each latest snapshot in full and compares.
    private func compareBackup(_ label: String, _ flags: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try restic(["backup", data] + flags), 0, "restic backup \(label)", file: file, line: line)
        try snap.expect(0, ["backup", data] + flags)
        let (a, b) = ("\(work)/out-restic-\(label)", "\(work)/out-snap-\(label)")
        XCTAssertEqual(try restic(["restore", "latest", "--target", a]), 0, file: file, line: line)
        try snap.expect(0, ["restore", "latest", "--target", b])
        let expected = try listing(a)
        XCTAssertFalse(expected.isEmpty, label, file: file, line: line)
        XCTAssertEqual(try listing(b), expected, "backup \(label) \(flags)", file: file, line: line)
    }

    private func excludeFile(_ name: String, _ lines: String) throws -> String {
        let path = "\(work)/\(name)"
        try lines.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    func testBackupExcludesMatchRestic() throws {
        let plain = try excludeFile("plain", "# comment\n\n*.o\n  Music  \nmy docs/file one.txt\n[ab]*.txt\n")
        try compareBackup("plain", ["--exclude-file", plain])
        try compareBackup("suffix", ["--exclude", "py311/config-3.11-x86_64-linux-gnu", "--exclude", "me/**/d.txt"])
        let anchored = try excludeFile("anchored", "$DATA/home/me/proj\n${DATA}/lib/*/site\n**/sub\n")
        try compareBackup("anchored", ["--exclude-file", anchored])
        let negation = try excludeFile("negation", "$DATA/home/me/*\n!$DATA/home/me/Documents\n!$DATA/home/me/proj\n*.o\n")
        try compareBackup("negation", ["--exclude-file", negation])
        let insensitive = try excludeFile("insensitive", "MUSIC\n*.TXT\n")
        try compareBackup("insensitive", ["--iexclude", "readme.md", "--iexclude-file", insensitive, "--exclude", "caf?.txt"])
        try compareBackup("flags", ["--exclude-caches", "--exclude-if-present", ".nobackup", "--exclude-larger-than", "100k"])
        try compareBackup("one-file-system", ["-x", "--exclude", "lib"])
    }

    func testRestoreSelectionMatchesRestic() throws {
        XCTAssertEqual(try restic(["backup", data]), 0)
        try snap.expect(0, ["backup", data])
        let cases: [(String, [String])] = [
            ("relative-include", ["--include", "me/Documents"]),
            ("name-include", ["--include", "*.txt"]),
            ("anchored-include", ["--include", "\(data)/home/me/proj/src", "--include", "\(data)/lib/*/config-3.11-x86_64-linux-gnu"]),
            ("iinclude", ["--iinclude", "readme.md", "--iinclude", "MAKEFILE"]),
            ("exclude", ["--exclude", "Documents", "--exclude", "*.mp3", "--exclude", "py311/config-3.11-x86_64-linux-gnu"]),
            ("iexclude", ["--iexclude", "*.TXT", "--iexclude", "\(data)/HOME/ME/PROJ"]),
            ("doublestar", ["--include", "\(data)/**/src/*.c"]),
        ]
        for (label, flags) in cases {
            let (a, b) = ("\(work)/restore-restic-\(label)", "\(work)/restore-snap-\(label)")
            XCTAssertEqual(try restic(["restore", "latest", "--target", a] + flags), 0, label)
            try snap.expect(0, ["restore", "latest", "--target", b] + flags)
            let expected = (try? listing(a)) ?? []
            XCTAssertEqual((try? listing(b)) ?? [], expected, "restore \(label) \(flags)")
        }
    }

    // restic matches a pattern's bytes: an exclude or include written for the Latin-1 name
    // caf\xe9.txt, on the command line (bash passes the byte as it is) or in a pattern file,
    // leaves out or picks exactly that file in both tools.
    func testPatternsThatAreNotUTF8MatchTheirBytesAsInRestic() throws {
        let latin = "caf\u{FFFD}.txt"  // how `find -printf %P` lists the name, in both outputs alike
        let file = "\(work)/latin1"
        FileManager.default.createFile(atPath: file, contents: Data(Array("caf".utf8) + [0xE9] + Array(".txt\n".utf8)))
        let cases = [("latin1-file", "--exclude-file \(file)"), ("latin1-long", "--exclude $'caf\\xe9.txt'"),
                     ("latin1-short", "-e $'Documents/caf\\xe9.txt'"), ("latin1-insensitive", "--iexclude $'CAF\\xe9.TXT'")]
        for (label, flags) in cases {
            let (a, b) = ("\(work)/out-restic-\(label)", "\(work)/out-snap-\(label)")
            XCTAssertEqual(try bash(restic: "backup --no-cache \"$DATA\" \(flags) && restic restore --no-cache latest --target \(a)"), 0, label)
            XCTAssertEqual(try bash(snap: "\"$SNAP\" backup \"$DATA\" \(flags) && \"$SNAP\" restore latest --target \(b)"), 0, label)
            let expected = try listing(a)
            XCTAssertFalse(expected.contains { $0.hasSuffix(latin) }, "\(label): restic left the file out: \(expected)")
            XCTAssertTrue(expected.contains { $0.hasSuffix("Documents/a.txt") }, label)
            XCTAssertEqual(try listing(b), expected, label)
        }
        // Every snapshot so far left the file out: one more that keeps it, then --include and find.
        XCTAssertEqual(try bash(restic: "backup --no-cache \"$DATA\""), 0)
        XCTAssertEqual(try bash(snap: "\"$SNAP\" backup \"$DATA\""), 0)
        let (a, b) = ("\(work)/restore-restic-latin1", "\(work)/restore-snap-latin1")
        XCTAssertEqual(try bash(restic: "restore --no-cache latest --target \(a) --include $'caf\\xe9.txt'"), 0)
        XCTAssertEqual(try bash(snap: "\"$SNAP\" restore latest --target \(b) --include $'caf\\xe9.txt'"), 0)
        XCTAssertTrue(try listing(a).contains { $0.hasSuffix(latin) })
        XCTAssertEqual(try listing(b), try listing(a))
        let found = try snap.run([], prefix: ["/bin/bash", "-c", "\"$0\" find $'caf\\xe9.txt'"])
        XCTAssertTrue(found.stdout.contains("Documents/caf\\xe9.txt"), found.stdout + found.stderr)
    }

    private func bash(restic script: String) throws -> Int32 {
        let result = try runTool("/bin/bash", ["-c", "restic \(script) 2>&1"], environment: resticEnvironment)
        XCTAssertEqual(result.status, 0, result.stdout)
        return result.status
    }

    private func bash(snap script: String) throws -> Int32 {
        let result = try snap.run([], prefix: ["/bin/bash", "-c", "SNAP=\"$0\"; \(script)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.status
    }

    // Not in restic 0.14: a pattern that matched nothing is named on stderr after the backup.
    func testUnmatchedPatternIsWarned() throws {
        let result = try snap.expect(0, ["backup", data, "--exclude", "*.nothing", "--exclude", "*.o"])
        XCTAssertTrue(result.stderr.contains("--exclude '*.nothing' matched nothing"), result.stderr)
        XCTAssertFalse(result.stderr.contains("'*.o'"), result.stderr)
    }
}
