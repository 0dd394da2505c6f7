import Foundation
import XCTest
import SnapTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: archives written by GNU tar and by `borg export-tar` piped into
/// `snap backup --stdin-tar`, restored, and compared with their source entry by entry.
final class TarImportCLITests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("tarimport")
        snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_REPOSITORY": "\(work)/repo", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init"])
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// Runs `bash -c SCRIPT` with `"$SNAP"` as the binary and `set -o pipefail`.
    private func shell(_ script: String) throws -> SnapProcess.Result {
        try snap.run([], prefix: ["/bin/bash", "-c", "set -o pipefail; SNAP=\"$0\"; cd \(work); \(script)"])
    }

    /// TreeFixture's tree in `work/src` (every kind of entry: long and non-UTF-8 names,
    /// hard links, xattrs, nanosecond times), less its socket, which tar cannot archive,
    /// and with an 8 MiB sparse file (three islands of data) for its 200 MiB one, to keep
    /// the test fast.
    private func makeSource() throws {
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: false)
        try TreeFixture.build(at: "\(work)/src")
        try FileManager.default.removeItem(atPath: "\(work)/src/socket")
        let sparse = "\(work)/src/sparse.img"
        let mtime = try FileManager.default.attributesOfItem(atPath: sparse)[.modificationDate]
        try FileManager.default.removeItem(atPath: sparse)
        let made = try shell("truncate -s 8M src/sparse.img && for at in 0 3000 7999; do head -c 5000 /dev/urandom | dd of=src/sparse.img bs=1K seek=$at conv=notrunc status=none; done")
        XCTAssertEqual(made.status, 0, made.stderr)
        try FileManager.default.setAttributes([.modificationDate: mtime as Any], ofItemAtPath: sparse)
    }

    private func differences(_ source: String, _ restored: String) -> [String] {
        var comparison = TreeComparison()
        comparison.compare(Array(source.utf8), Array(restored.utf8), compareOwners: true)
        XCTAssertGreaterThan(comparison.entriesCompared, 40)
        return comparison.differences
    }

    private func snapshots() throws -> [[String: Any]] {
        let out = try snap.expect(0, ["snapshots", "--json"]).stdout
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
    }

    // A POSIX archive with xattrs and sparse members (GNU tar's PAX format) restores
    // identical to its source: names, owners, modes, nanosecond times, xattrs, hard links,
    // symlinks, devices, fifos, sparse content. The snapshot has the given labels.
    func testPOSIXArchiveRestoresIdentically() throws {
        try makeSource()
        let result = try shell("tar --xattrs --format=posix --sparse -cf - src | \"$SNAP\" backup --stdin-tar --json --time '2020-02-03 04:05:06' --host old-host --tag moved,tar")
        XCTAssertEqual(result.status, 0, result.stderr)
        let summary = try XCTUnwrap(try jsonMessages(result.stdout).last)
        XCTAssertEqual(summary["message_type"] as? String, "summary")
        let id = try XCTUnwrap(summary["snapshot_id"] as? String)
        let listed = try XCTUnwrap(try snapshots().first)
        XCTAssertEqual(listed["id"] as? String, id)
        XCTAssertEqual(listed["time"] as? String, "2020-02-03T04:05:06Z")
        XCTAssertEqual(listed["hostname"] as? String, "old-host")
        XCTAssertEqual(listed["tags"] as? [String], ["moved", "tar"])
        XCTAssertEqual(listed["paths"] as? [String], ["/"])
        XCTAssertEqual(listed["imported_from"] as? [String: String], ["format": "tar", "id": ""])

        try snap.expect(0, ["restore", id, "--target", "\(work)/out"])
        XCTAssertEqual(differences("\(work)/src", "\(work)/out/src"), [])
    }

    // snap's own tar (`dump`: pax, xattrs, GNU sparse 1.0 members for zero chunks) imports
    // back to the same tree: the two halves of snap agree on the format.
    func testSnapDumpImportsBackIdentically() throws {
        try makeSource()
        try snap.expect(0, ["backup", "-q", "\(work)/src"])
        let piped = try shell("\"$SNAP\" dump latest / | \"$SNAP\" backup --stdin-tar -q --tag dumped")
        XCTAssertEqual(piped.status, 0, piped.stderr)
        let dumped = try XCTUnwrap(try snapshots().last)
        XCTAssertEqual(dumped["tags"] as? [String], ["dumped"])
        try snap.expect(0, ["restore", try XCTUnwrap(dumped["id"] as? String), "--target", "\(work)/out"])
        XCTAssertEqual(differences("\(work)/src", "\(work)/out\(work)/src"), [])
    }

    // GNU format: long names through L/K members, old-style sparse members; it has no
    // xattrs and whole-second times, so those are the only differences.
    func testGNUArchiveKeepsWhatTheFormatHolds() throws {
        try makeSource()
        let result = try shell("tar --format=gnu --sparse -cf - src | \"$SNAP\" backup --stdin-tar -q")
        XCTAssertEqual(result.status, 0, result.stderr)
        try snap.expect(0, ["restore", "latest", "--target", "\(work)/out"])
        let unexpected = differences("\(work)/src", "\(work)/out/src").filter { difference in
            if difference.hasSuffix("hello.txt: extended attributes differ") { return false }
            // "NAME: mtime S.N became S.0": the same second, nanoseconds dropped.
            guard let range = difference.range(of: ": mtime ") else { return true }
            let times = difference[range.upperBound...].components(separatedBy: " became ")
            return times.count != 2 || times[0].split(separator: ".").first != times[1].split(separator: ".").first || !times[1].hasSuffix(".0")
        }
        XCTAssertEqual(unexpected, [])
    }

    // borg 1.2 → snap: `borg export-tar` piped in with the archive's time restores identical
    // to `borg extract`. borg 1.2's tar export writes GNU format (no xattrs, whole
    // seconds), so the source tree here has neither; docs/from-borg-and-kopia.md says so.
    func testBorgArchiveRestoresLikeBorgExtract() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/borg") else {
            throw XCTSkip("borg is not installed (scripts/install-deps.sh installs borgbackup)")
        }
        try makeSource()
        let strip = """
            import os, sys
            for root, dirs, files in os.walk(sys.argv[1], topdown=False):
                for name in files + dirs + [""]:
                    p = os.path.join(root, name) if name else root
                    st = os.lstat(p)
                    try: os.removexattr(p, "user.snap.test", follow_symlinks=False)
                    except OSError: pass
                    os.utime(p, ns=(st.st_atime_ns // 10**9 * 10**9, st.st_mtime_ns // 10**9 * 10**9), follow_symlinks=False)
            """
        XCTAssertEqual(try runTool("/usr/bin/python3", ["-c", strip, "\(work)/src"]).status, 0)
        let borg = "BORG_REPO=\(work)/borg BORG_BASE_DIR=\(work)/borg-base BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes borg"
        let made = try shell("""
            \(borg) init -e none && \(borg) create ::first src && \
            \(borg) list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["archives"][0]["time"])' > time.txt && \
            \(borg) export-tar ::first - | "$SNAP" backup --stdin-tar -q --time "$(cat time.txt)" --tag borg && \
            mkdir extracted && (cd extracted && \(borg) extract ::first)
            """)
        XCTAssertEqual(made.status, 0, made.stderr)
        let time = try String(contentsOfFile: "\(work)/time.txt", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let listed = try XCTUnwrap(try snapshots().first)
        XCTAssertEqual((listed["time"] as? String)?.prefix(19), time.prefix(19)[...], "the borg archive's time (TZ=UTC here)")
        try snap.expect(0, ["restore", "latest", "--target", "\(work)/out"])
        XCTAssertEqual(differences("\(work)/extracted/src", "\(work)/out/src"), [])
    }

    // scripts/borg-to-snap.sh (the loop of docs/from-borg-and-kopia.md): every archive,
    // oldest first, with its time and host; a second run moves nothing, a third only the
    // archive added since.
    func testBorgLoopMovesEveryArchiveOnce() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/borg") else {
            throw XCTSkip("borg is not installed (scripts/install-deps.sh installs borgbackup)")
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/borg-to-snap.sh").path
        try FileManager.default.createDirectory(atPath: "\(work)/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(work)/bin/snap", withDestinationPath: SnapProcess.binary)
        let environment = "export PATH=\(work)/bin:$PATH BORG_REPO=\(work)/borg BORG_BASE_DIR=\(work)/borg-base BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes"
        let made = try shell("""
            \(environment); mkdir -p src/d && echo one > src/d/a && borg init -e none && \
            borg create --timestamp 2023-05-06T07:08:09 ::first src && echo two > src/d/b && \
            borg create --timestamp 2024-01-02T03:04:05 "::second, with a comma" src
            """)
        XCTAssertEqual(made.status, 0, made.stderr)
        let first = try shell("\(environment); \(script)")
        XCTAssertEqual(first.status, 0, first.stderr)
        var listed = try snapshots()
        XCTAssertEqual(listed.compactMap { $0["time"] as? String }, ["2023-05-06T07:08:09Z", "2024-01-02T03:04:05Z"])
        XCTAssertEqual(listed.compactMap { $0["tags"] as? [String] }, [["borg", "borg:first"], ["borg", "borg:second_ with a comma"]])
        let again = try shell("\(environment); \(script)")
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("first: moved before"), again.stdout)
        XCTAssertEqual(try snapshots().count, 2)
        let third = try shell("\(environment); echo three > src/d/c && borg create --timestamp 2025-01-01T00:00:00 ::third src && \(script)")
        XCTAssertEqual(third.status, 0, third.stderr)
        listed = try snapshots()
        XCTAssertEqual(listed.count, 3)
        try snap.expect(0, ["restore", "latest", "--target", "\(work)/out"])
        XCTAssertEqual(try String(contentsOfFile: "\(work)/out/src/d/c", encoding: .utf8), "three\n")
    }

    // Damaged or foreign input fails with one line naming what and where, exit 1, and no
    // snapshot; the producing command's failure too.
    func testBadStreamsSaveNothing() throws {
        try makeSource()
        let cases: [(String, String)] = [
            ("head -c 3000 /dev/urandom", "bad header checksum"),
            ("tar --format=posix -cf - src | head -c 100000", "ends inside"),
            (": ", "the stream is empty"),
        ]
        for (producer, expected) in cases {
            let result = try shell("\(producer) | \"$SNAP\" backup --stdin-tar")
            XCTAssertEqual(result.status, 1, producer)
            XCTAssertTrue(result.stderr.contains(expected), "\(producer): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        let failed = try snap.run(["backup", "--stdin-tar", "--stdin-from-command", "--", "sh", "-c", "tar -cf - -C \(work) src; exit 3"])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.stderr.contains("exited with status 3"), failed.stderr)
        XCTAssertEqual(try snapshots().count, 0)

        let good = try snap.run(["backup", "--stdin-tar", "--stdin-from-command", "-q", "--", "tar", "-cf", "-", "-C", work, "src/hello.txt"])
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertEqual(try snapshots().count, 1)
    }

    // Members named with '..' are left out with a warning (exit 3, as for unreadable files);
    // options that have no meaning for a tar stream are refused before anything is read.
    func testUnsafeNamesAndMeaninglessOptions() throws {
        let make = """
            import io, sys, tarfile
            t = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT)
            for name, data in [("ok/a", b"a"), ("../evil", b"e"), ("ok/../../b", b"b")]:
                info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
            t.close()
            """
        let result = try shell("python3 -c '\(make)' | \"$SNAP\" backup --stdin-tar")
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("/../evil: the name holds '..'"), result.stderr)
        let ls = try snap.expect(0, ["ls", "latest", "--recursive", "--json"]).stdout
        XCTAssertEqual(try lsNodes(ls).compactMap { $0["path"] as? String }, ["/ok", "/ok/a"])

        // A terminal on standard input is refused rather than waited on (script(1) gives it one).
        let terminal = try shell("script -qec '\"'$SNAP'\" backup --stdin-tar' /dev/null")
        XCTAssertEqual(terminal.status, 1, terminal.stdout + terminal.stderr)
        XCTAssertTrue(terminal.stdout.contains("which is a terminal: pipe one in"), terminal.stdout + terminal.stderr)

        for extra in [["--dry-run"], ["--exclude", "x"], ["--force"], ["some/path"], ["--stdin-filename", "x.tar"]] {
            let refused = try snap.run(["backup", "--stdin-tar"] + extra)
            XCTAssertNotEqual(refused.status, 0, "\(extra)")
            XCTAssertTrue(refused.stderr.contains("--stdin-tar"), "\(extra): \(refused.stderr)")
        }
    }

    // A symlink whose target holds a NUL byte (possible in a tar or a restic tree) is not
    // created cut at the NUL, where it would name another file: the restore names it as an
    // error (exit 1) and restores the rest.
    func testLinkTargetWithANulByteIsNeverCut() throws {
        let make = """
            import io, sys, tarfile
            t = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT)
            info = tarfile.TarInfo("link"); info.type = tarfile.SYMTYPE; info.linkname = "x"
            info.pax_headers = {"linkpath": "safe\\x00/etc/passwd"}; t.addfile(info)
            info = tarfile.TarInfo("f"); info.size = 2; t.addfile(info, io.BytesIO(b"f\\n"))
            t.close()
            """
        XCTAssertEqual(try shell("python3 -c '\(make)' | \"$SNAP\" backup -q --stdin-tar").status, 0)
        let restore = try snap.run(["restore", "latest", "--target", "\(work)/out"])
        XCTAssertEqual(restore.status, 1, restore.stderr)
        XCTAssertTrue(restore.stderr.contains("/link: cannot create: Invalid argument"), restore.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out/link"), "no link cut at the NUL")
        XCTAssertEqual(try String(contentsOfFile: "\(work)/out/f", encoding: .utf8), "f\n")
    }

    // A tree 1,100 levels deep, which restic and `snap backup` take, is imported (campaign 13
    // F10: refused beyond 1,024 levels); one deeper than any path within PATH_MAX is refused
    // in one line, and nothing is saved.
    func testDeepTreesUpToWhatPathMaxHoldsAreImported() throws {
        func make(_ depth: Int) -> String {
            """
            import io, sys, tarfile
            t = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT)
            info = tarfile.TarInfo("a/" * \(depth - 1) + "f"); info.size = 2; t.addfile(info, io.BytesIO(b"f\\n"))
            t.close()
            """
        }
        let deep = try shell("python3 -c '\(make(1_100))' | \"$SNAP\" backup -q --stdin-tar")
        XCTAssertEqual(deep.status, 0, deep.stderr)
        let listed = try snap.expect(0, ["ls", "latest"]).stdout.split(separator: "\n")
        XCTAssertTrue(listed.contains { $0.hasSuffix("/a/f") && $0.split(separator: "/").count == 1_100 }, "\(listed.suffix(2))")
        let tooDeep = try shell("python3 -c '\(make(2_100))' | \"$SNAP\" backup -q --stdin-tar")
        XCTAssertEqual(tooDeep.status, 1)
        XCTAssertTrue(tooDeep.stderr.contains("more than 2048 levels deep"), tooDeep.stderr)
        XCTAssertEqual(try snapshots().count, 1)
    }
}
