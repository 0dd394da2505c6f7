import Foundation
import SnapTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: bad input gives one clear line and the documented exit code.
final class FailureTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("fail")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "right"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: false)
        for i in 0..<5 {
            try String(repeating: "file \(i) content\n", count: 5000).write(toFile: "\(work)/src/f\(i).txt", atomically: false, encoding: .utf8)
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// A wrong password is one line on stderr and exit 12 (restic's code).
    func testWrongPassword() throws {
        let result = try snap.run(["snapshots"], extraEnvironment: ["SNAP_PASSWORD": "wrong"])
        XCTAssertEqual(result.status, 12)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("wrong password"), result.stderr)
    }

    /// Standard output that cannot be written (a full disk) does not stop a command midway:
    /// the backup saves its snapshot and removes its lock, then exits 1 with one line.
    func testUnwritableStandardOutput() throws {
        let toFull = ["/bin/sh", "-c", "exec \"$0\" \"$@\" >/dev/full"]
        let backup = try snap.run(["backup", "\(work)/src", "-v"], prefix: toFull)
        XCTAssertEqual(backup.status, 1, backup.stderr)
        XCTAssertEqual(backup.stderr.components(separatedBy: "snap: cannot write to standard output: No space left on device").count, 2,
                       "said once: \(backup.stderr)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/locks"), [])
        let listed = try snap.expect(0, ["snapshots", "--json"])
        let snapshots = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [Any])
        XCTAssertEqual(snapshots.count, 1, "the backup was saved")

        let list = try snap.run(["snapshots"], prefix: toFull)
        XCTAssertEqual(list.status, 1, list.stderr)
        XCTAssertTrue(list.stderr.contains("cannot write to standard output"), list.stderr)
    }

    /// No password source and no terminal: a one-line error naming the ways to give one.
    func testMissingPassword() throws {
        let bare = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo"])
        let result = try bare.run(["snapshots"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("SNAP_PASSWORD"), result.stderr)
    }

    /// Passwords come from a file and from a command too.
    func testPasswordFileAndCommand() throws {
        try "right\n".write(toFile: "\(work)/pw", atomically: false, encoding: .utf8)
        let noEnv = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo"])
        XCTAssertEqual(try noEnv.run(["snapshots", "--password-file", "\(work)/pw"]).status, 0)
        XCTAssertEqual(try noEnv.run(["snapshots", "--password-command", "echo right"]).status, 0)
        XCTAssertEqual(try noEnv.run(["snapshots"], extraEnvironment: ["SNAP_PASSWORD_FILE": "\(work)/pw"]).status, 0)

        // One final line ending is removed, a Windows one too; nothing else.
        try "right\r\n".write(toFile: "\(work)/crlf", atomically: false, encoding: .utf8)
        XCTAssertEqual(try noEnv.run(["snapshots", "--password-file", "\(work)/crlf"]).status, 0)
        try "right \n".write(toFile: "\(work)/space", atomically: false, encoding: .utf8)
        XCTAssertEqual(try noEnv.run(["snapshots", "--password-file", "\(work)/space"]).status, 12)

        // An option beats the environment; both options are a usage error.
        try "wrong\n".write(toFile: "\(work)/wrong", atomically: false, encoding: .utf8)
        let leftover = try noEnv.run(["snapshots", "--password-file", "\(work)/pw"],
                                     extraEnvironment: ["SNAP_PASSWORD_COMMAND": "echo wrong"])
        XCTAssertEqual(leftover.status, 0, leftover.stderr)
        let both = try noEnv.run(["snapshots", "--password-file", "\(work)/pw", "--password-command", "echo right"])
        XCTAssertEqual(both.status, 64)
        XCTAssertTrue(both.stderr.contains("mutually exclusive"), both.stderr)

        let missing = try noEnv.run(["snapshots", "--password-file", "\(work)/nope"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("cannot read password file \(work)/nope: No such file or directory"), missing.stderr)
    }

    /// A password command that asks on the terminal (as `pass` does with a terminal
    /// pinentry) gets its answer: it runs in snap's process group, the terminal's foreground
    /// one, not in a group of its own where reading the terminal stops it (SIGTTIN) until
    /// the timeout. The terminal is a pseudo-terminal made by `script`.
    func testPasswordCommandCanAskOnTheTerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("script (util-linux) is not installed") }
        let line = "\(SnapProcess.binary) -r \(work)/repo snapshots --password-command-timeout 10 --password-command 'read p </dev/tty; echo $p'"
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        script.arguments = ["-qec", line, "/dev/null"]
        script.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SNAP_") }
        let input = Pipe(), output = Pipe()
        script.standardInput = input
        script.standardOutput = output
        script.standardError = output
        let started = Date()
        try script.run()
        sleep(1)  // typed once the command waits at the terminal
        input.fileHandleForWriting.write(Data("right\n".utf8))
        script.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(script.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("0 snapshots"), text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 8, "answered, not timed out")
    }

    /// restic's repository file (the location alone) works as it is; a file that is neither
    /// that nor snap's JSON says what is expected, in one line.
    func testRepositoryFileInResticsForm() throws {
        let noRepo = SnapProcess(environment: ["SNAP_PASSWORD": "right"])
        try "  \(work)/repo\n".write(toFile: "\(work)/repofile", atomically: false, encoding: .utf8)
        try noRepo.expect(0, ["--repo-file", "\(work)/repofile", "snapshots"])
        try noRepo.expect(0, ["--repository-file", "\(work)/repofile", "snapshots"])  // restic's name
        XCTAssertEqual(try noRepo.run(["snapshots"], extraEnvironment: ["SNAP_REPOSITORY_FILE": "\(work)/repofile"]).status, 0)
        try "\(work)/repo\n\(work)/other\n".write(toFile: "\(work)/two", atomically: false, encoding: .utf8)
        try "{\"repo\": \"\(work)/repo\"}".write(toFile: "\(work)/json", atomically: false, encoding: .utf8)
        // A misspelt key is refused, not passed over (a "polcy" would silently mean quorum).
        try "{\"replicas\": [{\"location\": \"\(work)/repo\"}], \"polcy\": \"all\"}".write(toFile: "\(work)/typo", atomically: false, encoding: .utf8)
        try "{\"replicas\": [{\"location\": \"\(work)/repo\"}], \"policy\": \"majority\"}".write(toFile: "\(work)/policy", atomically: false, encoding: .utf8)
        try "{\"replicas\": [{\"locaton\": \"\(work)/repo\"}]}".write(toFile: "\(work)/entry", atomically: false, encoding: .utf8)
        for (file, reason) in [("two", "holds more than one line"), ("json", "unknown key \"repo\""), ("typo", "unknown key \"polcy\""),
                               ("policy", "\"policy\" must be one of all, quorum, any"), ("entry", "unknown key \"locaton\"")] {
            let refused = try noRepo.run(["--repo-file", "\(work)/\(file)", "snapshots"])
            XCTAssertEqual(refused.status, 1, refused.stderr)
            XCTAssertTrue(refused.stderr.contains(reason) && refused.stderr.contains("docs/mirroring.md"), refused.stderr)
            XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
            XCTAssertFalse(refused.stderr.contains("Debug description"), refused.stderr)
        }
    }

    /// One place given twice is not two replicas: refused, however it is spelt.
    func testOneLocationGivenTwiceIsRefused() throws {
        let noRepo = SnapProcess(environment: ["SNAP_PASSWORD": "right"])
        for second in ["\(work)/repo", "\(work)/repo/", "\(work)/src/../repo", "local:\(work)/repo"] {
            let refused = try noRepo.run(["-r", "\(work)/repo", "-r", second, "snapshots"])
            XCTAssertEqual(refused.status, 1, refused.stderr)
            XCTAssertTrue(refused.stderr.contains("is given twice"), refused.stderr)
            XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
        }
        try "{\"replicas\": [{\"location\": \"\(work)/repo\"}]}".write(toFile: "\(work)/file", atomically: false, encoding: .utf8)
        XCTAssertEqual(try noRepo.run(["--repo-file", "\(work)/file", "-r", "\(work)/repo", "snapshots"]).status, 1)
    }

    /// A copy without the source's password names the source's options, not the
    /// destination's (which are set); `dump -a zip` is restic's short form of --archive.
    func testCopyNamesTheSourcePasswordAndDumpTakesDashA() throws {
        try snap.expect(0, ["backup", "-q", "\(work)/src"])
        let other = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/other", "SNAP_PASSWORD": "right"])
        try other.expect(0, ["init"])
        let copy = try other.run(["copy", "--from-repo", "\(work)/repo"])
        XCTAssertEqual(copy.status, 1)
        XCTAssertTrue(copy.stderr.contains("no password given for the source repository: set SNAP_FROM_PASSWORD"), copy.stderr)
        let zip = try snap.expect(0, ["dump", "-a", "zip", "latest", "\(work)/src"])
        XCTAssertTrue(zip.stdout.hasPrefix("PK"), "a zip archive")
    }

    /// restic's variables are not read (a RESTIC_REPOSITORY is a restic repository), but a
    /// missing setting names the one set in its place.
    func testMissingSettingsNameResticVariablesSetInstead() throws {
        let restic = SnapProcess(environment: ["RESTIC_REPOSITORY": "\(work)/repo", "RESTIC_PASSWORD_FILE": "\(work)/pw"])
        let noRepo = try restic.run(["snapshots"])
        XCTAssertEqual(noRepo.status, 1)
        XCTAssertTrue(noRepo.stderr.hasSuffix("or SNAP_REPOSITORY_FILE; RESTIC_REPOSITORY is set, but snap reads SNAP_REPOSITORY (docs/from-restic.md)\n"),
                      noRepo.stderr)
        let noPassword = try restic.run(["-r", "\(work)/repo", "snapshots"])
        XCTAssertEqual(noPassword.status, 1)
        XCTAssertTrue(noPassword.stderr.contains("; RESTIC_PASSWORD_FILE is set, but snap reads SNAP_PASSWORD_FILE"), noPassword.stderr)
        let plain = try SnapProcess(environment: [:]).run(["-r", "\(work)/repo", "snapshots"])
        XCTAssertFalse(plain.stderr.contains("RESTIC_"), plain.stderr)
        // Both of snap's variables set, with no option to choose: refused, not one picked.
        try "\(work)/repo\n".write(toFile: "\(work)/repo-file", atomically: false, encoding: .utf8)
        let both = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_REPOSITORY_FILE": "\(work)/repo-file", "SNAP_PASSWORD": "right"])
        let refused = try both.run(["snapshots"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("SNAP_REPOSITORY and SNAP_REPOSITORY_FILE are both set"), refused.stderr)
        try both.expect(0, ["snapshots", "-r", "\(work)/repo"])
        let copy = try both.run(["copy", "-r", "\(work)/repo"], extraEnvironment: ["SNAP_FROM_REPOSITORY": "\(work)/repo", "SNAP_FROM_REPOSITORY_FILE": "\(work)/repo-file"])
        XCTAssertEqual(copy.status, 1)
        XCTAssertTrue(copy.stderr.contains("SNAP_FROM_REPOSITORY and SNAP_FROM_REPOSITORY_FILE are both set"), copy.stderr)
    }

    /// Where the system refuses every new thread (`ulimit -u` reached), snap says so in one
    /// line and exits 1, instead of commands that wait on a worker (`check`) hanging, deaf
    /// to SIGTERM. Needs root, to run as another user under a process limit of 1.
    func testNoThreadsIsOneLineNotAHang() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit"),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root, prlimit and setpriv")
        }
        // A repository the other user may read, so that nothing but the threads stops it.
        XCTAssertEqual(try runTool("/bin/chmod", ["-R", "a+rwX", work]).status, 0)
        let started = Date()
        let line = "timeout 30 setpriv --reuid 65534 --regid 65534 --clear-groups prlimit --nproc=1 \"$0\" check -r \(work)/repo 2>&1; echo \"exit $?\""
        let result = try runTool("/bin/sh", ["-c", line, SnapProcess.binary], environment: ["SNAP_PASSWORD": "right", "PATH": "/usr/bin:/bin"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 25, "no hang")
        XCTAssertTrue(result.stdout.hasSuffix("exit 1\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("snap: the system refuses to start threads"), result.stdout)
        XCTAssertEqual(result.stdout.split(separator: "\n").count, 2, result.stdout)
    }

    /// libcurl is loaded at the first remote transfer only: a command on a local repository
    /// maps neither it nor the TLS, SSH and Kerberos libraries it pulls in. (The password
    /// command runs inside snap's session; its shell's parent is snap.)
    func testLocalRepositoryDoesNotLoadLibcurl() throws {
        let maps = "\(work)/maps"
        let noEnv = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo"])
        let result = try noEnv.run(["backup", "\(work)/src", "--password-command", "cat /proc/$PPID/maps > \(maps); echo right"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let mapped = try String(contentsOfFile: maps, encoding: .utf8)
        XCTAssertTrue(mapped.contains("libcrypto"), "the maps of snap itself were read")
        XCTAssertFalse(mapped.contains("libcurl"), mapped)
        XCTAssertFalse(mapped.contains("libgnutls"), mapped)
    }

    /// A path that does not exist fails before anything is written.
    func testMissingSourcePath() throws {
        let before = try repositoryFiles()
        let result = try snap.run(["backup", "\(work)/src", "\(work)/does-not-exist"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("does-not-exist: does not exist"), result.stderr)
        XCTAssertEqual(try repositoryFiles(), before)
    }

    /// A repository location with nothing in it says so, suggests init, and exits 10 (restic's code).
    func testNotARepository() throws {
        let result = try snap.run(["snapshots"], extraEnvironment: ["SNAP_REPOSITORY": "\(work)/nothing-here"])
        XCTAssertEqual(result.status, 10)
        XCTAssertTrue(result.stderr.contains("snap init"), result.stderr)
        // init names a file given as the location for what it is, as the other commands do.
        try "x".write(toFile: "\(work)/a-file", atomically: false, encoding: .utf8)
        let onFile = try snap.run(["init"], extraEnvironment: ["SNAP_REPOSITORY": "\(work)/a-file"])
        XCTAssertEqual(onFile.status, 1)
        XCTAssertTrue(onFile.stderr.contains("is a regular file: a snap repository is a folder"), onFile.stderr)
    }

    /// snap, and the words to run it with, as a user that permissions hold back: as root
    /// (who reads anything), nobody, who is given this test's repository.
    private func withoutRoot() throws -> (SnapProcess, [String]) {
        guard getuid() == 0 else { return (snap, []) }
        XCTAssertEqual(chownTree("\(work)/repo", uid: 65534, gid: 65534), 0)
        return (SnapProcess(environment: snap.environment.merging(["HOME": work]) { $1 }),
                ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"])
    }

    /// An unreadable file is skipped with a warning naming it; the snapshot is saved and the exit code is 3.
    func testUnreadableFileGivesWarningAndExitThree() throws {
        let secret = "\(work)/src/unreadable.txt"
        try "secret".write(toFile: secret, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(secret, 0), 0)
        let (runner, prefix) = try withoutRoot()
        let result = try runner.run(["backup", "\(work)/src"], prefix: prefix)
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("unreadable.txt"), result.stderr)
        let list = try runner.run(["ls", "latest"], prefix: prefix).stdout
        XCTAssertTrue(list.contains("f0.txt"))
        XCTAssertFalse(list.contains("unreadable.txt"))
    }

    /// A path given that cannot be looked at (a folder above it closed to the user) is
    /// skipped with a warning, the other paths are saved, exit 3, as in restic; given alone,
    /// it is an error and nothing is saved.
    func testUnreachablePathArgumentGivesWarningAndExitThree() throws {
        try FileManager.default.createDirectory(atPath: "\(work)/closed", withIntermediateDirectories: false)
        try "y".write(toFile: "\(work)/closed/y", atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod("\(work)/closed", 0), 0)
        defer { chmod("\(work)/closed", 0o755) }
        let (runner, prefix) = try withoutRoot()
        let result = try runner.run(["backup", "\(work)/closed/y", "\(work)/src"], prefix: prefix)
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("\(work)/closed/y: Permission denied"), result.stderr)
        XCTAssertTrue(try runner.run(["ls", "latest"], prefix: prefix).stdout.contains("f0.txt"))
        let paths = try runner.run(["snapshots", "--json"], prefix: prefix).stdout
        XCTAssertTrue(paths.contains("\(work)/closed/y"), "still among the snapshot's paths, as restic: \(paths)")
        let alone = try runner.run(["backup", "\(work)/closed/y"], prefix: prefix)
        XCTAssertEqual(alone.status, 1, alone.stderr)
        XCTAssertEqual(alone.stderr.split(separator: "\n").count, 1, "one line: \(alone.stderr)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/snapshots").count, 1)
    }

    /// A flipped byte in a pack: restore names the damaged file, restores the others, exits non-zero.
    func testDamagedPackIsReportedWithFileName() throws {
        try String(repeating: "damaged-to-be\n", count: 10_000).write(toFile: "\(work)/src/victim.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", "\(work)/src"])
        // Find the data pack holding victim.txt and flip a byte inside that blob.
        let nodes = try lsNodes(try snap.expect(0, ["ls", "latest", "\(work)/src/victim.txt", "--json"]).stdout)
        let blob = try XCTUnwrap((nodes.first?["content"] as? [String])?.first)
        let packs = FileManager.default.enumerator(atPath: "\(work)/repo/data")?.compactMap { $0 as? String }.filter { $0.count == 67 } ?? []
        var flipped = false
        for pack in packs {
            let header = try snap.expect(0, ["cat", "pack", String(pack.suffix(64))]).stdout
            guard let json = try JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any],
                  let blobs = json["blobs"] as? [[String: Any]],
                  let entry = blobs.first(where: { $0["id"] as? String == blob }),
                  let offset = entry["offset"] as? Int, let length = entry["length"] as? Int else { continue }
            let path = "\(work)/repo/data/\(pack)"
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            data[offset + length / 2] ^= 0x01
            try data.write(to: URL(fileURLWithPath: path))
            flipped = true
        }
        XCTAssertTrue(flipped, "could not find the pack of victim.txt")
        let result = try snap.run(["restore", "latest", "--target", "\(work)/out"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("victim.txt"), result.stderr)
        XCTAssertEqual(try String(contentsOfFile: "\(work)/out\(work)/src/f1.txt", encoding: .utf8),
                       try String(contentsOfFile: "\(work)/src/f1.txt", encoding: .utf8))
    }

    /// Usage errors exit 64 with ArgumentParser's message.
    func testUsageError() throws {
        XCTAssertEqual(try snap.run(["restore", "--at", "not-a-time", "--target", "x"]).status, 64)
        // Under --json, standard error holds only JSON: one exit_error with code 64.
        let json = try snap.run(["snapshots", "--json", "--bogus"])
        XCTAssertEqual(json.status, 64)
        let messages = try jsonMessages(json.stderr)
        XCTAssertEqual(messages.count, 1, json.stderr)
        XCTAssertEqual(messages.first?["message_type"] as? String, "exit_error")
        XCTAssertEqual(messages.first?["code"] as? Int, 64)
        XCTAssertTrue((messages.first?["message"] as? String)?.contains("--bogus") == true, json.stderr)
        let command = try snap.run(["bogus", "--json"])
        XCTAssertEqual(command.status, 64)
        XCTAssertEqual(try jsonMessages(command.stderr).map { $0["message_type"] as? String }, ["exit_error"])
    }

    /// `snapshots ID…` lists those snapshots only; `latest` is the newest the filters match.
    func testSnapshotsByID() throws {
        try snap.expect(0, ["backup", "\(work)/src", "--host", "one", "-q"])
        try snap.expect(0, ["backup", "\(work)/src", "--host", "two", "-q"])
        let all = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["snapshots", "--json"]).stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(all.count, 2)
        let firstID = try XCTUnwrap(all.first?["id"] as? String)
        func listed(_ arguments: [String]) throws -> [String] {
            let out = try snap.expect(0, ["snapshots", "--json"] + arguments).stdout
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]]).compactMap { $0["hostname"] as? String }
        }
        XCTAssertEqual(try listed([String(firstID.prefix(8))]), ["one"])
        XCTAssertEqual(try listed(["latest"]), ["two"])
        XCTAssertEqual(try listed(["latest", "--host", "one"]), ["one"])
        // An ID that names nothing is passed over with a warning, as restic does.
        XCTAssertEqual(try listed(["ffffffff"]), [])
        XCTAssertTrue(try snap.expect(0, ["snapshots", "ffffffff"]).stderr.contains("warning: ignoring 'ffffffff'"))
    }

    private func repositoryFiles() throws -> [String] {
        (FileManager.default.enumerator(atPath: "\(work)/repo")?.compactMap { $0 as? String } ?? []).sorted()
    }

    private func chownTree(_ path: String, uid: uid_t, gid: gid_t) -> Int32 {
        var status: Int32 = chown(path, uid, gid)
        for item in FileManager.default.enumerator(atPath: path)?.compactMap({ $0 as? String }) ?? [] {
            status |= lchown("\(path)/\(item)", uid, gid)
        }
        return status
    }
}
