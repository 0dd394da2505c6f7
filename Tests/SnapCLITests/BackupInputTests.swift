import Foundation
import XCTest
import SnapTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: what real backup jobs feed snap — streams, file lists, odd path arguments —
/// and the backup controls (dry run, skip if unchanged), as restic's flags do.
final class BackupInputTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("inputs")
        snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_REPOSITORY": "\(work)/repo", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/src/sub", withIntermediateDirectories: true)
        for (name, text) in [("a.txt", "a\n"), ("sub/b.txt", "b\n"), ("sub/c.log", "c\n"), ("with space.txt", "s\n")] {
            try text.write(toFile: "\(work)/src/\(name)", atomically: false, encoding: .utf8)
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// Runs snap inside `bash -c SCRIPT`, where `"$SNAP"` is the binary; standard error kept.
    private func shell(_ script: String) throws -> SnapProcess.Result {
        try snap.run([], prefix: ["/bin/bash", "-c", "SNAP=\"$0\"; \(script)"])
    }

    private func snapshotCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/snapshots").count
    }

    private func files(_ snapshot: String = "latest") throws -> Set<String> {
        Set(try lsNodes(try snap.expect(0, ["ls", snapshot, "--recursive", "--json"]).stdout)
            .filter { $0["type"] as? String == "file" }.compactMap { $0["path"] as? String })
    }

    // A stream of any bytes comes back byte for byte, under the name given.
    func testStdinRoundTrip() throws {
        let result = try shell("head -c 5000000 /dev/urandom | tee \(work)/dump.bin | \"$SNAP\" backup --stdin --stdin-filename db/dump.sql")
        XCTAssertEqual(result.status, 0, result.stderr)
        try snap.expect(0, ["dump", "latest", "/db/dump.sql", "--target", "\(work)/out.bin"])
        XCTAssertEqual(FileManager.default.contents(atPath: "\(work)/out.bin"), FileManager.default.contents(atPath: "\(work)/dump.bin"))
        XCTAssertEqual(try files(), ["/db/dump.sql"])
    }

    // --stdin-filename is cleaned as restic cleans it; one that leaves the root is refused.
    func testStdinFilenameIsCleaned() throws {
        let result = try shell("echo x | \"$SNAP\" backup --stdin --stdin-filename ./db/./old/../dump.sql -q")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try files(), ["/db/dump.sql"])
        let snapshots = try snap.expect(0, ["snapshots", "--path", "/db/dump.sql"]).stdout
        XCTAssertTrue(snapshots.contains("1 snapshots"), snapshots)
        let refused = try shell("echo x | \"$SNAP\" backup --stdin --stdin-filename db/../../x")
        XCTAssertEqual(refused.status, 64, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("names no file below the root"), refused.stderr)
        // Bytes that are not UTF-8 are kept, given apart or attached.
        XCTAssertEqual(try shell("echo x | \"$SNAP\" backup --stdin --stdin-filename $'db/caf\\xe9' -q").status, 0)
        XCTAssertEqual(try files(), ["/db/caf\\xe9"])
        XCTAssertEqual(try shell("echo x | \"$SNAP\" backup --stdin --stdin-filename=$'./d\\xff/x' -q").status, 0)
        XCTAssertEqual(try files(), ["/d\\xff/x"])
    }

    // --stdin-from-command: the command's output is backed up; a failing command leaves no snapshot and exit 1.
    func testStdinFromCommand() throws {
        try Data((0..<200_000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: "\(work)/table.sql"))
        try snap.expect(0, ["backup", "--stdin-from-command", "--stdin-filename", "table.sql", "--", "cat", "\(work)/table.sql"])
        try snap.expect(0, ["dump", "latest", "/table.sql", "--target", "\(work)/out.sql"])
        XCTAssertEqual(FileManager.default.contents(atPath: "\(work)/out.sql"), FileManager.default.contents(atPath: "\(work)/table.sql"))
        let failed = try snap.run(["backup", "--stdin-from-command", "--", "sh", "-c", "echo partial; exit 2"])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.stderr.contains("sh exited with status 2: no snapshot was saved"), failed.stderr)
        XCTAssertEqual(try snapshotCount(), 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/locks"), [], "no lock left behind")
        let missing = try snap.run(["backup", "--stdin-from-command", "--", "no-such-program-here"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("not found"), missing.stderr)
        XCTAssertEqual(try snap.run(["backup", "--stdin-from-command"]).status, 64, "the command is missing")
        XCTAssertEqual(try snap.run(["backup", "--stdin", "\(work)/src"]).status, 64, "--stdin takes no paths")
        // An empty stream (a producer that died before writing) saves nothing, as in restic.
        for arguments in [["backup", "--stdin"], ["backup", "--stdin-from-command", "--", "true"]] {
            let empty = try snap.run(arguments)
            XCTAssertEqual(empty.status, 1, "\(arguments): \(empty.stderr)")
            XCTAssertTrue(empty.stderr.contains("the stream gave no data, so no snapshot was saved"), empty.stderr)
        }
        XCTAssertEqual(try snapshotCount(), 1)
        // A pattern file that is standard input too is refused: its read would take the stream.
        let both = try shell("echo x | \"$SNAP\" backup --stdin --exclude-file /dev/stdin")
        XCTAssertEqual(both.status, 64, both.stderr)
        XCTAssertTrue(both.stderr.contains("--exclude-file /dev/stdin is standard input, which --stdin backs up"), both.stderr)
        // The excludes apply to the stream's name, as restic's: left out, nothing is saved.
        let excluded = try shell("echo x | \"$SNAP\" backup --stdin --stdin-filename db/a.log -e '*.log'")
        XCTAssertEqual(excluded.status, 1, excluded.stderr)
        XCTAssertTrue(excluded.stderr.contains("/db/a.log: is left out by the exclude patterns, so no snapshot was saved"), excluded.stderr)
        XCTAssertEqual(try shell("echo x | \"$SNAP\" backup -q --stdin --stdin-filename db/a.sql -e '*.log'").status, 0)
        XCTAssertEqual(try snapshotCount(), 2)
    }

    // The command runs with no signal blocked and SIGINT, SIGTERM, SIGHUP and SIGPIPE at their
    // defaults, though snap blocks the first three in its own threads; so an interrupted snap
    // ends it (here with SIGTERM: `sleep` leaves no orphan), and Ctrl-C reaches it.
    func testStreamCommandTakesSignalsAndEndsWithSnap() throws {
        try snap.expect(0, ["backup", "--stdin-from-command", "--stdin-filename", "status", "--", "grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"])
        try snap.expect(0, ["dump", "latest", "/status", "--target", "\(work)/status"])
        let lines = try String(contentsOfFile: "\(work)/status", encoding: .utf8).split(separator: "\n")
        let masks = Dictionary(uniqueKeysWithValues: lines.compactMap { line -> (String, UInt64)? in
            let parts = line.split(separator: ":")
            return parts.count == 2 ? (String(parts[0]), UInt64(parts[1].trimmingCharacters(in: .whitespaces), radix: 16) ?? 1) : nil
        })
        XCTAssertEqual(masks["SigBlk"], 0, "\(lines)")
        let defaults = [SIGINT, SIGTERM, SIGHUP, SIGPIPE].reduce(UInt64(0)) { $0 | UInt64(1) << UInt64($1 - 1) }
        XCTAssertEqual((masks["SigIgn"] ?? defaults) & defaults, 0, "\(lines)")

        let marker = "\(work)/sleeping"
        let result = try shell("""
            "$SNAP" backup --stdin-from-command -- sh -c 'echo $$ > \(marker); exec sleep 300' & pid=$!
            for i in $(seq 100); do [ -s \(marker) ] && break; sleep 0.1; done
            sleep 0.3; kill -TERM $pid; wait $pid; echo "snap=$?"
            child=$(cat \(marker)); for i in $(seq 50); do kill -0 $child 2>/dev/null || break; sleep 0.1; done
            kill -0 $child 2>/dev/null && { echo "left running"; kill -KILL $child; } ; true
            """)
        XCTAssertTrue(result.stdout.contains("snap=143"), result.stdout + result.stderr)
        XCTAssertFalse(result.stdout.contains("left running"), result.stdout + result.stderr)
    }

    // find -print0 | snap backup --files-from-raw - backs up exactly those files, whatever bytes their names hold.
    func testFilesFromRawBacksUpExactlyTheListedFiles() throws {
        let odd = "\(work)/src/new\nline.txt"
        try "n\n".write(toFile: odd, atomically: false, encoding: .utf8)
        let latin = try shell("printf x > $'\(work)/src/lat\\xe9.txt'")
        XCTAssertEqual(latin.status, 0)
        let result = try shell("find \(work)/src -name '*.txt' -print0 | \"$SNAP\" backup --files-from-raw -")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try files(), ["\(work)/src/a.txt", "\(work)/src/sub/b.txt", "\(work)/src/with space.txt",
                                     "\(work)/src/new\nline.txt", "\(work)/src/lat\\xe9.txt"])
    }

    // --files-from skips comments and blank lines, trims, expands globs and warns about one that matches nothing;
    // --files-from-verbatim takes lines as they are.
    func testFilesFromAndVerbatim() throws {
        try "# comment\n\n  \(work)/src/sub/*.txt  \n\(work)/src/nothing-*\n".write(toFile: "\(work)/list", atomically: false, encoding: .utf8)
        let result = try snap.expect(0, ["backup", "--files-from", "\(work)/list", "\(work)/src/a.txt"])
        XCTAssertTrue(result.stderr.contains("matches no file"), result.stderr)
        XCTAssertEqual(try files(), ["\(work)/src/a.txt", "\(work)/src/sub/b.txt"])
        try "\(work)/src/with space.txt\n".write(toFile: "\(work)/verbatim", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", "--files-from-verbatim", "\(work)/verbatim"])
        XCTAssertEqual(try files(), ["\(work)/src/with space.txt"])
        let unreadable = try snap.run(["backup", "--files-from", "\(work)/no-list"])
        XCTAssertEqual(unreadable.status, 1)
        XCTAssertTrue(unreadable.stderr.contains("cannot read the file list \(work)/no-list: No such file or directory"), unreadable.stderr)
        let folder = try snap.run(["backup", "--files-from", "\(work)/src"])
        XCTAssertEqual(folder.status, 1)
        XCTAssertTrue(folder.stderr.contains("cannot read the file list \(work)/src: it is a folder"), folder.stderr)
        XCTAssertEqual(try snapshotCount(), 2)
    }

    // Lists and pattern files given as `<(command)` are pipes, read once though the options
    // are checked before they are used; a list whose command is silent a while is waited for.
    func testListsAndPatternFilesFromPipes() throws {
        let lists = try shell("\"$SNAP\" backup --files-from <(sleep 2; echo '\(work)/src/sub/*') --files-from-verbatim <(echo '\(work)/src/a.txt')"
            + " --exclude-file <(echo '*.log')")
        XCTAssertEqual(lists.status, 0, lists.stderr)
        XCTAssertEqual(try files(), ["\(work)/src/a.txt", "\(work)/src/sub/b.txt"])
        let raw = try shell("\"$SNAP\" backup --files-from-raw <(printf '\(work)/src/with space.txt\\0')")
        XCTAssertEqual(raw.status, 0, raw.stderr)
        XCTAssertEqual(try files(), ["\(work)/src/with space.txt"])
        let restore = try shell("\"$SNAP\" backup -q \(work)/src && \"$SNAP\" restore latest --target \(work)/out --include-file <(echo '*.log')")
        XCTAssertEqual(restore.status, 0, restore.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(work)/out\(work)/src/sub/c.log"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out\(work)/src/a.txt"))
    }

    // Lists from Windows tools: a UTF-8 byte order mark is dropped and UTF-16 decoded, as
    // restic reads them (the first path was silently left out); -raw lists stay bytes.
    func testFileListsWithByteOrderMarks() throws {
        let utf8 = try shell("\"$SNAP\" backup -q --files-from <(printf '\\xef\\xbb\\xbf\(work)/src/a.txt\\n\(work)/src/sub/b.txt\\n')")
        XCTAssertEqual(utf8.status, 0, utf8.stderr)
        XCTAssertEqual(try files(), ["\(work)/src/a.txt", "\(work)/src/sub/b.txt"])
        var utf16: [UInt8] = [0xFF, 0xFE]
        for unit in "\(work)/src/with space.txt\r\n".utf16 { utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        try Data(utf16).write(to: URL(fileURLWithPath: "\(work)/list16"))
        try snap.expect(0, ["backup", "-q", "--files-from-verbatim", "\(work)/list16"])
        XCTAssertEqual(try files(), ["\(work)/src/with space.txt"])
        try Data([0xFF, 0xFE, 0x41]).write(to: URL(fileURLWithPath: "\(work)/bad16"))
        let bad = try snap.run(["backup", "--files-from", "\(work)/bad16"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("cannot read the file list \(work)/bad16: it starts with a UTF-16 byte order mark"), bad.stderr)
    }

    // As restic's, --ignore-inode leaves the ctime out too: a file replaced by a copy (new
    // inode, new ctime, same size and mtime), as some FUSE and network file systems show
    // files after a remount, is not read again.
    func testIgnoreInodeImpliesIgnoreCtime() throws {
        try snap.expect(0, ["backup", "-q", "\(work)/src"])
        let copy = try shell("cp -p '\(work)/src/a.txt' '\(work)/a.copy' && mv '\(work)/a.copy' '\(work)/src/a.txt'")
        XCTAssertEqual(copy.status, 0, copy.stderr)
        let summary = try XCTUnwrap(try snap.expect(0, ["backup", "--json", "--ignore-inode", "\(work)/src"]).stdout
            .split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["message_type"] as? String == "summary" })
        XCTAssertEqual(summary["files_changed"] as? Int, 0, "\(summary)")
        XCTAssertEqual(summary["files_unmodified"] as? Int, 4, "\(summary)")
    }

    // A path argument that is not UTF-8 is backed up (CommandLine.arguments alone would mangle it).
    func testNonUTF8PathArgument() throws {
        let result = try shell("printf x > $'\(work)/lat\\xe9' && \"$SNAP\" backup $'\(work)/lat\\xe9'")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try files(), ["\(work)/lat\\xe9"])
    }

    /// `src/mounted`, a tmpfs mounted for this test (unmounted after it): another file system.
    private func mountedTmpfs() throws -> String {
        let mountPoint = "\(work)/src/mounted"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        guard try runTool("/bin/mount", ["-t", "tmpfs", "snap-test", mountPoint]).status == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root and mount rights)")
        }
        addTeardownBlock { _ = try? runTool("/bin/umount", [mountPoint]) }
        return mountPoint
    }

    // -x/--one-file-system across a real mount (a tmpfs): the mount point is kept as an empty folder, its contents left out.
    func testOneFileSystemStopsAtARealMount() throws {
        let mountPoint = try mountedTmpfs()
        try "inside\n".write(toFile: "\(mountPoint)/inner.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", "-x", "\(work)/src"])
        let entries = try lsNodes(try snap.expect(0, ["ls", "latest", "--recursive", "--json"]).stdout)
        let paths = Set(entries.compactMap { $0["path"] as? String })
        XCTAssertTrue(paths.contains(mountPoint), "the mount point is kept")
        XCTAssertFalse(paths.contains("\(mountPoint)/inner.txt"), "its contents are on another file system")
        XCTAssertTrue(paths.contains("\(work)/src/a.txt"))
        try snap.expect(0, ["backup", "\(work)/src"])
        XCTAssertTrue(try files().contains("\(mountPoint)/inner.txt"), "without -x the mount is crossed")
    }

    // -x on an overlayfs whose lower layer is another file system (a live system's root, a
    // container's), backed up itself: its files carry their layer's device, its folders the
    // overlay's. The files are in the overlay all the same, and are kept.
    func testOneFileSystemKeepsTheFilesOfAnOverlay() throws {
        let lower = "\(work)/lower", upper = "\(work)/upper", scratch = "\(work)/scratch", merged = "\(work)/src/merged"
        for folder in [lower, upper, scratch, merged] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false) }
        guard try runTool("/bin/mount", ["-t", "tmpfs", "snap-test", lower]).status == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root and mount rights)")
        }
        addTeardownBlock { _ = try? runTool("/bin/umount", [lower]) }
        try FileManager.default.createDirectory(atPath: "\(lower)/sub", withIntermediateDirectories: false)
        try "lower\n".write(toFile: "\(lower)/f.txt", atomically: false, encoding: .utf8)
        try "deeper\n".write(toFile: "\(lower)/sub/g.txt", atomically: false, encoding: .utf8)
        guard try runTool("/bin/mount", ["-t", "overlay", "snap-test", "-o", "lowerdir=\(lower),upperdir=\(upper),workdir=\(scratch)", merged]).status == 0 else {
            throw XCTSkip("cannot mount an overlay here")
        }
        addTeardownBlock { _ = try? runTool("/bin/umount", [merged]) }
        try "upper\n".write(toFile: "\(merged)/new.txt", atomically: false, encoding: .utf8)
        var folder = stat(), file = stat()
        guard stat(merged, &folder) == 0, stat("\(merged)/f.txt", &file) == 0, folder.st_dev != file.st_dev else {
            throw XCTSkip("this kernel gives an overlay's files the overlay's device")
        }
        try snap.expect(0, ["backup", "-x", merged])
        let paths = Set(try lsNodes(try snap.expect(0, ["ls", "latest", "--recursive", "--json"]).stdout).compactMap { $0["path"] as? String })
        XCTAssertTrue(paths.isSuperset(of: ["\(merged)/f.txt", "\(merged)/sub/g.txt", "\(merged)/new.txt"]), "\(paths.sorted())")
    }

    // -x with the other file system given too (restic's `backup -x / /home`): the given
    // mount point is backed up with its contents, and a given path below another mount
    // point is backed up while that mount point's other entries are left out.
    func testOneFileSystemBacksUpTheOtherFileSystemsItIsGiven() throws {
        let mountPoint = try mountedTmpfs()
        try FileManager.default.createDirectory(atPath: "\(mountPoint)/keep/deep", withIntermediateDirectories: true)
        try "kept\n".write(toFile: "\(mountPoint)/keep/deep/k.txt", atomically: false, encoding: .utf8)
        try "inside\n".write(toFile: "\(mountPoint)/inner.txt", atomically: false, encoding: .utf8)
        func backedUp(_ paths: [String]) throws -> Set<String> {
            try snap.expect(0, ["backup", "-x"] + paths)
            return Set(try lsNodes(try snap.expect(0, ["ls", "latest", "--recursive", "--json"]).stdout).compactMap { $0["path"] as? String })
        }
        for order in [["\(work)/src", mountPoint], [mountPoint, "\(work)/src"]] {
            let both = try backedUp(order)
            XCTAssertTrue(both.isSuperset(of: ["\(work)/src/a.txt", "\(mountPoint)/inner.txt", "\(mountPoint)/keep/deep/k.txt"]), "\(order): \(both.sorted())")
        }
        let below = try backedUp(["\(work)/src", "\(mountPoint)/keep"])
        XCTAssertTrue(below.isSuperset(of: ["\(work)/src/a.txt", mountPoint, "\(mountPoint)/keep/deep/k.txt"]), "\(below.sorted())")
        XCTAssertFalse(below.contains("\(mountPoint)/inner.txt"), "the rest of the other file system is left out")
    }

    // A tree 2,000 folders deep (its deepest path still under PATH_MAX) backs up, and
    // restores under a 256 KiB `ulimit -s`: the command runs on a thread whose stack is
    // its own, not the main thread's (a stack overflow, SIGSEGV, before).
    func testDeepTreeBacksUpAndRestoresWhateverTheStackLimit() throws {
        let deep = "\(work)/deep/" + Array(repeating: "a", count: 2000).joined(separator: "/")
        try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
        try "x".write(toFile: "\(deep)/f", atomically: false, encoding: .utf8)
        let backup = try shell("ulimit -s 256; \"$SNAP\" backup -q \(work)/deep")
        XCTAssertEqual(backup.status, 0, backup.stderr)
        let restore = try shell("ulimit -s 256; \"$SNAP\" restore -q latest --target \(work)/out")
        XCTAssertEqual(restore.status, 0, restore.stderr)
        XCTAssertEqual(try String(contentsOfFile: "\(work)/out\(deep)/f", encoding: .utf8), "x")
    }

    // A file size limit (`ulimit -f`) makes writes fail with EFBIG instead of ending snap
    // by SIGXFSZ without a word: a restore names the file and leaves nothing of it, a
    // backup says what it could not write and leaves no lock.
    func testFileSizeLimitIsAnErrorNotASignal() throws {
        try FileManager.default.createDirectory(atPath: "\(work)/big", withIntermediateDirectories: false)
        try Data(repeating: 7, count: 3 << 20).write(to: URL(fileURLWithPath: "\(work)/big/three"))
        try snap.expect(0, ["backup", "-q", "\(work)/big"])
        let restore = try shell("ulimit -f 1024; \"$SNAP\" restore -q latest --target \(work)/out")
        XCTAssertEqual(restore.status, 1, restore.stderr)
        XCTAssertTrue(restore.stderr.contains("\(work)/big/three: cannot ") && restore.stderr.contains("File too large"), restore.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out\(work)/big/three"), "nothing left that looks restored")
        let before = try snapshotCount()
        try Data(seededBytes(count: 3 << 20, seed: 19)).write(to: URL(fileURLWithPath: "\(work)/big/other"))  // packs do not shrink it
        let backup = try shell("ulimit -f 1024; \"$SNAP\" backup -q \(work)/big")
        XCTAssertEqual(backup.status, 1, backup.stderr)
        XCTAssertTrue(backup.stderr.contains("File too large"), backup.stderr)
        XCTAssertEqual(try snapshotCount(), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/locks"), [])
        try snap.expect(0, ["check"])
    }

    // --dry-run writes nothing and says what it would add; --skip-if-unchanged saves nothing when nothing changed.
    func testDryRunAndSkipIfUnchanged() throws {
        func repositoryFiles() -> [String] { (FileManager.default.enumerator(atPath: "\(work)/repo")?.allObjects as? [String] ?? []).sorted() }
        let before = repositoryFiles()
        let dry = try snap.expect(0, ["backup", "-n", "\(work)/src"]).stdout
        XCTAssertTrue(dry.contains("dry run: nothing was written"), dry)
        XCTAssertTrue(dry.contains("Would add:"), dry)
        XCTAssertEqual(repositoryFiles(), before)
        // The folders on the way to a backed-up path are part of its tree, and /tmp's time
        // changes whenever another process makes a file in it: back up from a quieter place.
        let quiet = try makeTemporaryFolder("quiet", in: "/var/tmp")
        defer { try? FileManager.default.removeItem(atPath: quiet) }
        try "q\n".write(toFile: "\(quiet)/q.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", quiet])
        let skipped = try snap.expect(0, ["backup", "--skip-if-unchanged", quiet]).stdout
        XCTAssertTrue(skipped.contains("no snapshot saved"), skipped)
        XCTAssertEqual(try snapshotCount(), 1)
        try snap.expect(0, ["backup", "-H", "elsewhere", "--group-by", "host", "\(quiet)/q.txt"])
        XCTAssertEqual(try snapshotCount(), 2)
        // restic 0.14's older name for --host.
        try snap.expect(0, ["backup", "--hostname", "older", "\(quiet)/q.txt"])
        XCTAssertTrue(try snap.expect(0, ["snapshots", "--host", "older"]).stdout.contains("1 snapshots"))
    }
}
