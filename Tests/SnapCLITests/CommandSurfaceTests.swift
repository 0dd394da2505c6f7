import Foundation
import SnapTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: the command surface a restic user expects — global options before the
/// command, `key`, `version`, restic's exit codes, a clear unknown-command line.
final class CommandSurfaceTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("surface")
        snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init", "-r", "\(work)/repo"])
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: false)
        try "hello\n".write(toFile: "\(work)/src/a.txt", atomically: false, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    // restic's habit: `-r REPO` (and other global options) before the command, also for
    // sub-commands; `--repo=…` too.
    func testGlobalOptionsBeforeTheCommand() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src"])
        let listed = try snap.expect(0, ["-r", repo, "--json", "snapshots"])
        XCTAssertTrue(listed.stdout.hasPrefix("["), listed.stdout)
        try snap.expect(0, ["--repo=\(repo)", "-q", "check"])
        try snap.expect(0, ["-r", repo, "repair", "index", "--dry-run"])
        try snap.expect(0, ["-r", repo, "mirror", "status"])
        try snap.expect(0, ["-r", repo, "key", "list"])
        try snap.expect(0, ["snapshots", "-r", repo])
    }

    // restic's `-o KEY=VALUE`: settings snap has are taken (rclone.program is seen to start the
    // program named); those it has not are refused before anything runs, naming snap's way.
    func testResticBackendOptions() throws {
        let program = "\(work)/rclone-wrapper"
        try "#!/bin/sh\necho started >> '\(work)/wrapper.log'\nexec rclone \"$@\"\n".write(toFile: program, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(program, 0o755), 0)
        try snap.expect(0, ["-o", "rclone.program=\(program)", "-o", "rclone.connections=2", "-r", "rclone:\(work)/viarclone", "init", "-q"])
        XCTAssertTrue(try String(contentsOfFile: "\(work)/wrapper.log", encoding: .utf8).hasPrefix("started\n"))
        try snap.expect(0, ["-r", "\(work)/repo", "--option=local.connections=1", "-o", "local.layout=default", "snapshots", "-q"])
        let refused: [(String, String)] = [
            ("sftp.command=ssh -p 2222 host", "-o sftp.command: snap speaks SFTP itself"),
            ("s3.bucket-lookup=dns", "by path only"),
            ("s3.connections=0", "'0' is not a number of connections"),
            ("b2.account-id=x", "snap has no b2 backend"),
            ("local.unknown=1", "snap has no such setting"),
            ("nonsense", "is not KEY=VALUE"),
        ]
        for (value, text) in refused {
            let result = try snap.run(["-r", "\(work)/repo", "-o", value, "snapshots"])
            XCTAssertEqual(result.status, 64, "\(value): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("Error: ") && result.stderr.contains(text), "\(value): \(result.stderr)")
        }
    }

    // restic's `--compression auto|max|off` and `--pack-size`, which restic users put before the
    // command: init keeps them, backup takes --compression, other commands pass over them as
    // restic's do.
    func testResticCompressionWordsAndPackSizeBeforeTheCommand() throws {
        func config(_ repo: String) throws -> (level: Int?, packSize: Int?) {
            let text = try snap.expect(0, ["-r", repo, "cat", "config"]).stdout
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            return ((object["compression"] as? [String: Any])?["level"] as? Int, object["pack_size"] as? Int)
        }
        try snap.expect(0, ["--compression", "max", "--pack-size", "32", "-r", "\(work)/max", "init", "-q"])
        XCTAssertEqual(try config("\(work)/max").level, 11)
        XCTAssertEqual(try config("\(work)/max").packSize, 32 << 20)
        try snap.expect(0, ["--compression=off", "-r", "\(work)/off", "init", "-q"])
        XCTAssertEqual(try config("\(work)/off").level, 1)
        try snap.expect(0, ["-r", "\(work)/auto", "init", "-q", "--compression", "auto"])
        XCTAssertEqual(try config("\(work)/auto").level, 3)
        let repo = "\(work)/repo"
        try snap.expect(0, ["--compression", "off", "-r", repo, "backup", "-q", "\(work)/src"])
        try snap.expect(0, ["-r", repo, "backup", "-q", "--compression", "auto", "\(work)/src"])
        try snap.expect(0, ["--compression", "max", "--pack-size=64", "-r", repo, "snapshots", "-q"])
        let refused = try snap.run(["--compression", "best", "-r", repo, "backup", "\(work)/src"])
        XCTAssertEqual(refused.status, 64, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("or auto, max or off"), refused.stderr)
        // A bad value is refused also where the command passes over the option, as restic's.
        for (option, value) in [("--compression", "bogus"), ("--pack-size", "abc"), ("--pack-size", "5000")] {
            let result = try snap.run([option, value, "-r", repo, "snapshots"])
            XCTAssertEqual(result.status, 64, "\(option) \(value): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("Error: \(option) '\(value)'"), result.stderr)
        }
    }

    // restic's parser also takes a global option between a command and its sub-command, and
    // a short option with its value attached.
    func testGlobalOptionsBetweenCommandWordsAndAttachedShortValues() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r\(repo)", "backup", "\(work)/src"])
        XCTAssertTrue(try snap.expect(0, ["key", "-r", repo, "list"]).stdout.contains("*"))
        XCTAssertTrue(try snap.expect(0, ["key", "-r\(repo)", "list", "--json"]).stdout.hasPrefix("["))
        try snap.expect(0, ["mirror", "--repo=\(repo)", "-q", "status"])
        let listed = try snap.expect(0, ["snapshots", "-r\(repo)", "--json"])
        XCTAssertEqual(listed.stdout.components(separatedBy: "\"short_id\"").count, 2, listed.stdout)
        // A word after the sub-command is the sub-command's business, as before.
        XCTAssertEqual(try snap.run(["key", "list", "-r"]).status, 64)
    }

    // restic's `-p FILE` (short for --password-file), before or after the command, and attached.
    func testPasswordFileShortForm() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src", "-q"])
        let password = try XCTUnwrap(snap.environment["SNAP_PASSWORD"])
        try "\(password)\n".write(toFile: "\(work)/pw", atomically: false, encoding: .utf8)
        try "wrong\n".write(toFile: "\(work)/wrong", atomically: false, encoding: .utf8)
        let withoutVariable = SnapProcess(environment: ["SNAP_CACHE_DIR": "\(work)/cache"])
        try withoutVariable.expect(0, ["-r", repo, "-p", "\(work)/pw", "snapshots", "-q"])
        try withoutVariable.expect(0, ["snapshots", "-r", repo, "-p\(work)/pw", "-q"])
        try withoutVariable.expect(12, ["-p", "\(work)/wrong", "-r", repo, "snapshots"])
    }

    // As restic's flag parser, an option takes the next word as its value even when it
    // begins with `-` (a pattern, a tag, a host): `--exclude -x`, `-e -x`, `--tag -t`.
    func testOptionValuesMayBeginWithADash() throws {
        let repo = "\(work)/repo"
        try FileManager.default.createDirectory(atPath: "\(work)/src/-x", withIntermediateDirectories: false)
        try "y\n".write(toFile: "\(work)/src/-x/f", atomically: false, encoding: .utf8)
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src", "--exclude", "-x", "--tag", "-t"])
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src", "-e", "-x", "--tag", "-t"])
        let listed = try snap.expect(0, ["-r", repo, "ls", "latest", "--tag", "-t", "--recursive"]).stdout
        XCTAssertTrue(listed.contains("a.txt"), listed)
        XCTAssertFalse(listed.contains("-x"), listed)
        XCTAssertEqual(try snap.run(["-r", repo, "backup", "\(work)/src", "--exclude"]).status, 64, "a missing value is still an error")
    }

    // restic's `--verbose=N` counts as N `-v`: at 2 an unchanged file is listed, at 1 not.
    func testVerboseWithACount() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src"])
        let two = try snap.expect(0, ["-r", repo, "--verbose=2", "backup", "\(work)/src"])
        XCTAssertTrue(two.stdout.contains("a.txt"), two.stdout)
        let one = try snap.expect(0, ["backup", "--verbose=1", "-r", repo, "\(work)/src"])
        XCTAssertFalse(one.stdout.contains("a.txt"), one.stdout)
        XCTAssertEqual(try snap.run(["-r", repo, "--verbose=lots", "snapshots"]).status, 64)
    }

    // Commands that print one JSON document print it on one line, as restic does, so that
    // line-oriented readers (`read`, `head -1`, NDJSON tools) take it whole.
    func testOneJSONDocumentIsOneLine() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src", "--tag", "t"])
        for arguments in [["snapshots"], ["stats"], ["key", "list"], ["version"], ["find", "a.txt"], ["tag", "--add", "u", "latest"]] {
            let output = try snap.expect(0, ["-r", repo, "--json"] + arguments).stdout
            XCTAssertEqual(output.split(separator: "\n").count, 1, "\(arguments): \(output)")
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(output.utf8)), "\(arguments): \(output)")
        }
    }

    // A command's help lists its own options first and the global ones after them, also through `snap help` and man pages.
    func testCommandHelpListsItsOwnOptionsBeforeTheGlobalOnes() throws {
        for arguments in [["backup", "--help"], ["help", "backup"], ["key", "add", "--help"]] {
            let help = try snap.expect(0, arguments).stdout
            let own = try XCTUnwrap(help.range(of: "\nOPTIONS:\n"), "\(arguments): \(help)")
            let global = try XCTUnwrap(help.range(of: "\nGLOBAL OPTIONS:\n"), "\(arguments): \(help)")
            XCTAssertLessThan(own.lowerBound, global.lowerBound, "\(arguments): \(help)")
            XCTAssertEqual(help.components(separatedBy: "GLOBAL OPTIONS:").count, 2, help)
        }
        let backupHelp = try snap.expect(0, ["backup", "--help"]).stdout
        XCTAssertLessThan(try XCTUnwrap(backupHelp.range(of: "--tag")).lowerBound, try XCTUnwrap(backupHelp.range(of: "--repo")).lowerBound)
    }

    // Every option the help lists as global is accepted before the command.
    func testEveryGlobalOptionInTheHelpWorksBeforeTheCommand() throws {
        let help = try snap.expect(0, ["snapshots", "--help"]).stdout
        let section = try XCTUnwrap(help.components(separatedBy: "GLOBAL OPTIONS:").dropFirst().first)
            .components(separatedBy: "\n\n").first ?? ""
        let values = ["--repo": "\(work)/repo", "--mirror-policy": "quorum", "--password-file": "\(work)/pw",
                      "--password-command": "echo pw", "--s3-object-lock-mode": "GOVERNANCE", "--cache-dir": "\(work)/cache",
                      "--repo-file": "\(work)/none.json", "--max-key-memory": "1G", "--s3-storage-class": "STANDARD"]
        try "pw\n".write(toFile: "\(work)/pw", atomically: false, encoding: .utf8)
        var tried = 0
        for line in section.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard let long = words.first(where: { $0.hasPrefix("--") && $0 != "--help" })?.trimmingCharacters(in: .punctuationCharacters.subtracting(["-"])) else { continue }
            let takesValue = words.contains { $0.hasPrefix("<") }
            let arguments = [long] + (takesValue ? [values[long] ?? "1"] : []) + ["snapshots", "-r", "\(work)/repo"]
            let result = try snap.run(arguments)
            XCTAssertFalse(result.stderr.contains("Unknown option") || result.stderr.contains("Unexpected argument"),
                           "\(arguments): \(result.stderr)")
            tried += 1
        }
        XCTAssertGreaterThanOrEqual(tried, 15, section)
    }

    // restic's options that snap has no equivalent for are refused with the reason, not a bare
    // "Unknown option"; one whose behaviour snap always has is accepted.
    func testResticOptionsLeftOutSayWhy() throws {
        let repo = "\(work)/repo"
        for (arguments, why) in [(["backup", "--with-atime", "\(work)/src"], "snap stores no access times"),
                                 (["forget", "-l", "1", "--repack-uncompressed"], "every snap blob is compressed"),
                                 (["init", "--repository-version", "2"], "one repository format")] {
            let result = try snap.run(["-r", repo] + arguments)
            XCTAssertEqual(result.status, 64, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("snap: restic's \(arguments[0]) \(arguments[arguments[0] == "forget" ? 3 : 1]) has no equivalent: "), result.stderr)
            XCTAssertTrue(result.stderr.contains(why), result.stderr)
        }
        let json = try snap.run(["-r", repo, "--json", "prune", "--repack-small"])
        XCTAssertTrue(json.stderr.contains("\"message_type\":\"exit_error\""), json.stderr)
        try snap.expect(0, ["-r", repo, "rebuild-index", "--read-all-packs", "-q"])
    }

    func testUnknownCommandNamesTheCommands() throws {
        let result = try snap.run(["-r", "\(work)/repo", "frobnicate"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.hasPrefix("snap: unknown command \"frobnicate\"; the commands are: init, backup"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    }

    func testVersion() throws {
        for arguments in [["version"], ["-r", "\(work)/repo", "version"]] {
            let result = try snap.expect(0, arguments)
            XCTAssertTrue(result.stdout.hasPrefix("snap 0."), result.stdout)
            XCTAssertTrue(result.stdout.contains("zstd 1."), result.stdout)
            XCTAssertTrue(result.stdout.contains("OpenSSL 3"), result.stdout)
        }
        let json = try snap.expect(0, ["version", "--json"]).stdout
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String])
        XCTAssertEqual(Set(object.keys), ["snap", "swift", "platform", "zstd", "openssl", "curl", "workers"])
        XCTAssertGreaterThanOrEqual(Int(object["workers"] ?? "") ?? 0, 1)
    }

    // The worker count follows SNAP_WORKERS, and the affinity mask that `taskset` sets.
    func testWorkerCount() throws {
        func workers(prefix: [String] = [], environment: [String: String] = [:]) throws -> Int? {
            let result = try snap.run(["version", "--json"], prefix: prefix, extraEnvironment: environment)
            XCTAssertEqual(result.status, 0, result.stderr)
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String]
            return object?["workers"].flatMap { Int($0) }
        }
        XCTAssertEqual(try workers(environment: ["SNAP_WORKERS": "7"]), 7)
        XCTAssertEqual(try workers(environment: ["SNAP_WORKERS": "0"]), try workers(), "an unusable value is ignored")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") else { return }
        XCTAssertEqual(try workers(prefix: ["/usr/bin/taskset", "-c", "0"]), 1, "pinned to one CPU")
        XCTAssertEqual(try workers(prefix: ["/usr/bin/taskset", "-c", "0"], environment: ["SNAP_WORKERS": "3"]), 3, "the override wins")
    }

    // restic's exit codes: 10 no repository, 12 wrong password.
    func testExitCodes() throws {
        XCTAssertEqual(try snap.run(["-r", "\(work)/nothing-here", "snapshots"]).status, 10)
        XCTAssertEqual(try snap.run(["-r", "\(work)/repo", "snapshots"], extraEnvironment: ["SNAP_PASSWORD": "wrong"]).status, 12)
    }

    // key add / list / passwd / remove, as restic's `key` command.
    // restic's --key-hint: of two key files that the password opens, the one named opens
    // the repository (key list marks it current), with the flag or SNAP_KEY_HINT.
    func testKeyHintPicksTheKeyTriedFirst() throws {
        let repo = "\(work)/repo"
        try "pw\n".write(toFile: "\(work)/same", atomically: false, encoding: .utf8)
        try snap.expect(0, ["-r", repo, "key", "add", "--new-password-file", "\(work)/same"])
        func current(_ extra: [String], environment: [String: String] = [:]) throws -> String {
            let process = SnapProcess(environment: snap.environment.merging(environment) { $1 })
            let keys = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try process.expect(0, ["-r", repo, "key", "list", "--json"] + extra).stdout.utf8)) as? [[String: Any]])
            return try XCTUnwrap(keys.first { $0["current"] as? Bool == true }?["id"] as? String)
        }
        let ids = try snap.expect(0, ["-r", repo, "list", "keys"]).stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(ids.count, 2)
        for id in ids {
            XCTAssertEqual(try current(["--key-hint", String(id.prefix(6))]), id)
            XCTAssertEqual(try current([], environment: ["SNAP_KEY_HINT": String(id.prefix(10))]), id)
        }
        XCTAssertTrue(ids.contains(try current(["--key-hint", "ffffffffff"])), "a hint that names no key changes nothing")
    }

    func testKeyLifecycle() throws {
        let repo = "\(work)/repo"
        try "second\n".write(toFile: "\(work)/second", atomically: false, encoding: .utf8)
        try "third\n".write(toFile: "\(work)/third", atomically: false, encoding: .utf8)
        XCTAssertEqual(try snap.run(["-r", repo, "key", "add", "--new-password-file", "\(work)/second", "--host", " "]).status, 64)
        XCTAssertEqual(try snap.run(["-r", repo, "key", "add", "--new-password-file", "\(work)/second", "--user", "a\nb"]).status, 64)
        try snap.expect(0, ["-r", repo, "key", "add", "--new-password-file", "\(work)/second", "--host", "laptop"])
        let listed = try snap.expect(0, ["-r", repo, "key", "list", "--json"]).stdout
        let keys = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
        XCTAssertEqual(keys.count, 2)
        XCTAssertEqual(keys.filter { $0["current"] as? Bool == true }.count, 1)
        XCTAssertTrue(keys.contains { $0["hostname"] as? String == "laptop" })
        XCTAssertTrue(keys.contains { $0["hostName"] as? String == "laptop" }, "restic's key too")
        XCTAssertTrue(keys.allSatisfy { $0["userName"] is String })
        let first = try XCTUnwrap(keys.first { $0["current"] as? Bool == true }?["id"] as? String)

        // The key in use cannot be removed; from the other password it can.
        let refused = try snap.run(["-r", repo, "key", "remove", String(first.prefix(8))])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("is the one this command opened the repository with"), refused.stderr)
        try snap.expect(0, ["-r", repo, "--password-file", "\(work)/second", "key", "remove", String(first.prefix(8))])
        XCTAssertEqual(try snap.run(["-r", repo, "snapshots"]).status, 12, "the removed password no longer opens it")

        // passwd: the new password opens it, the old one does not.
        try snap.expect(0, ["-r", repo, "--password-file", "\(work)/second", "key", "passwd", "--new-password-file", "\(work)/third"])
        XCTAssertEqual(try snap.run(["-r", repo, "--password-file", "\(work)/second", "snapshots"]).status, 12)
        try snap.expect(0, ["-r", repo, "--password-file", "\(work)/third", "snapshots"])
        // passwd to the same password renews the key file and says so.
        let same = try snap.expect(0, ["-r", repo, "--password-file", "\(work)/third", "key", "passwd", "--new-password-file", "\(work)/third"])
        XCTAssertTrue(same.stdout.contains("with the same password"), same.stdout)
        try snap.expect(0, ["-r", repo, "--password-file", "\(work)/third", "snapshots"])
        XCTAssertEqual(try snap.run(["-r", repo, "--password-file", "\(work)/third", "key", "add"]).status, 1,
                       "no terminal and no --new-password-file: a clear error")
    }

    // diff and find through the binary, with restic's output shapes.
    func testDiffAndFind() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src"])
        try "changed\n".write(toFile: "\(work)/src/a.txt", atomically: false, encoding: .utf8)
        try "new\n".write(toFile: "\(work)/src/b.log", atomically: false, encoding: .utf8)
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src"])
        let listed = try snap.expect(0, ["-r", repo, "--json", "snapshots"]).stdout
        let ids = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]]).compactMap { $0["id"] as? String }
        XCTAssertEqual(ids.count, 2)
        let diff = try snap.expect(0, ["-r", repo, "diff", ids[0], ids[1]]).stdout
        XCTAssertTrue(diff.contains("M    \(work)/src/a.txt"), diff)
        XCTAssertTrue(diff.contains("+    \(work)/src/b.log"), diff)
        XCTAssertTrue(diff.contains("Files:   1 new, 0 removed, 1 changed"), diff)
        let json = try snap.expect(0, ["-r", repo, "--json", "diff", String(ids[0].prefix(8)), "latest"]).stdout
        let messages = try json.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(messages.compactMap { $0["modifier"] as? String }.sorted(), ["+", "M"])
        XCTAssertEqual(messages.last?["message_type"] as? String, "statistics")
        // restic's keys beside snap's: one file changed, one added, nothing removed.
        XCTAssertEqual(messages.last?["changed_files"] as? Int, 1)
        XCTAssertEqual((messages.last?["added"] as? [String: Any])?["files"] as? Int, 1)
        XCTAssertNotNil((messages.last?["added"] as? [String: Any])?["bytes"] as? Int)
        XCTAssertEqual((messages.last?["removed"] as? [String: Any])?["files"] as? Int, 0)

        let found = try snap.expect(0, ["-r", repo, "find", "*.log"]).stdout
        XCTAssertTrue(found.contains("Found matching entries in snapshot \(ids[1].prefix(8))"), found)
        XCTAssertFalse(found.contains(ids[0].prefix(8)), "the first snapshot has no .log file: \(found)")
        let groups = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "--json", "find", "a.txt"]).stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(groups.count, 2)
        XCTAssertEqual(groups.first?["hits"] as? Int, 1)
        let named = try snap.expect(0, ["-r", repo, "find", "*.log", "-s", ids[1], "--host", "elsewhere"]).stdout
        XCTAssertTrue(named.contains("Found matching entries in snapshot \(ids[1].prefix(8))"), "-s ID ignores the filters: \(named)")
        XCTAssertEqual(try snap.expect(0, ["-r", repo, "find", "*.log", "--host", "elsewhere"]).stdout, "")
        XCTAssertEqual(try snap.expect(0, ["-r", repo, "find", "a.txt", "-N", "2000-01-01"]).stdout, "", "modified after 2000")
        XCTAssertTrue(try snap.expect(0, ["-r", repo, "find", "a.txt", "-O", "2000-01-01"]).stdout.contains("a.txt"))
        XCTAssertEqual(try snap.run(["-r", repo, "find", "["]).status, 64, "an invalid pattern is a usage error")
        let packs = try snap.expect(0, ["-r", repo, "list", "packs"]).stdout.split(separator: "\n").map(String.init)
        let byPack = try snap.expect(0, ["-r", repo, "find", "--pack"] + packs.map { String($0.prefix(12)) }).stdout
        XCTAssertTrue(byPack.contains("\(work)/src/a.txt"), "every file uses a blob of some pack: \(byPack)")
        XCTAssertEqual(try snap.run(["-r", repo, "find", "--pack", "0123456789abcdef"]).status, 1, "no such pack")
        XCTAssertEqual(try snap.run(["-r", repo, "diff", ids[0], "ffffffff"]).status, 1)
    }

    // find --blob/--tree/--pack report each use in each snapshot as restic 0.14 does, in text
    // and JSON; --show-pack-id adds where the blob is stored.
    func testFindByIDReportsUsesAsResticDoes() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r", repo, "backup", "-q", "\(work)/src"])
        try snap.expect(0, ["-r", repo, "backup", "-q", "--force", "\(work)/src"])
        let file = try XCTUnwrap(try lsNodes(try snap.expect(0, ["-r", repo, "ls", "latest", "--json"]).stdout).first { $0["name"] as? String == "a.txt" })
        let blob = try XCTUnwrap((file["content"] as? [String])?.first)
        let snapshots = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "--json", "snapshots"]).stdout.utf8)) as? [[String: Any]])
        let shorts = snapshots.compactMap { ($0["id"] as? String)?.prefix(8) }
        XCTAssertEqual(shorts.count, 2)

        let json = try snap.expect(0, ["-r", repo, "--json", "find", "--blob", String(blob.prefix(10)), "--show-pack-id"]).stdout
        let uses = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        XCTAssertEqual(uses.count, 2, "one use in each snapshot: \(json)")
        for (use, short) in zip(uses, shorts) {
            XCTAssertEqual(Set(use.keys), ["object_type", "id", "path", "parent_tree", "snapshot", "time", "pack_id"])
            XCTAssertEqual(use["object_type"] as? String, "blob")
            XCTAssertEqual(use["id"] as? String, blob)
            XCTAssertEqual(use["path"] as? String, "\(work)/src/a.txt")
            XCTAssertTrue((use["snapshot"] as? String)?.hasPrefix(short) == true)
        }
        let tree = try XCTUnwrap(uses.first?["parent_tree"] as? String)
        let pack = try XCTUnwrap(uses.first?["pack_id"] as? String)
        XCTAssertTrue(try snap.expect(0, ["-r", repo, "list", "packs"]).stdout.contains(pack))

        let text = try snap.expect(0, ["-r", repo, "find", "--blob", blob, "--show-pack-id"]).stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(text.prefix(4)), ["Found blob \(blob)", " ... in file \(work)/src/a.txt", "     (tree \(tree))", text[3]])
        XCTAssertTrue(text[3].hasPrefix(" ... in snapshot \(shorts[0]) ("), text[3])
        XCTAssertTrue(text[7].hasPrefix(" ... in snapshot \(shorts[1]) ("), "\(text)")
        XCTAssertEqual(text[8], "Object belongs to pack \(pack)")
        XCTAssertTrue(text[9].hasPrefix(" ... Pack \(pack.prefix(8)): <Blob (data) \(blob.prefix(8)), offset "), text[9])
        XCTAssertEqual(text.count, 10, "\(text)")

        let folder = try snap.expect(0, ["-r", repo, "find", "--tree", tree]).stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(folder.prefix(2)), ["Found tree \(tree)", " ... path \(work)/src"])
        XCTAssertEqual(folder.count, 6, "\(folder)")
        let usage = try snap.run(["-r", repo, "find", "a.txt", "--show-pack-id"])
        XCTAssertEqual(usage.status, 64, usage.stderr)
        // As restic's: --tree finds folders only, --blob files only; an ID found nowhere is
        // an empty result (a full ID is searched even when the index lacks it, as one `check`
        // reports missing); a prefix the index does not know is a warning.
        XCTAssertEqual(try snap.expect(0, ["-r", repo, "find", "--tree", blob]).stdout, "")
        XCTAssertEqual(try snap.expect(0, ["-r", repo, "find", "--blob", tree]).stdout, "")
        XCTAssertEqual(try snap.expect(0, ["-r", repo, "--json", "find", "--blob", String(repeating: "0", count: 64)]).stdout, "[]\n")
        let unknown = try snap.expect(0, ["-r", repo, "find", "--blob", "00000000"])
        XCTAssertTrue(unknown.stderr.contains("no blob or tree in the index begins with 00000000"), unknown.stderr)
    }

    // ls starts with restic's line naming the snapshot, so `| tail -n +2` keeps every entry;
    // -q and --json leave it out.
    func testLsStartsWithTheSnapshotLine() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r", repo, "backup", "-q", "\(work)/src"])
        let lines = try snap.expect(0, ["-r", repo, "ls", "latest", "\(work)/src"]).stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("snapshot ") == true && lines.first?.contains(" of [\(work)/src] filtered by [\(work)/src] at ") == true, "\(lines)")
        XCTAssertEqual(Array(lines.dropFirst()), ["\(work)/src", "\(work)/src/a.txt"])
        XCTAssertEqual(try snap.expect(0, ["-r", repo, "ls", "-q", "latest", "\(work)/src"]).stdout, "\(work)/src\n\(work)/src/a.txt\n")
    }

    func testTag() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r", repo, "backup", "--tag", "a", "\(work)/src"])
        let out = try snap.expect(0, ["-r", repo, "tag", "--add", "b,c", "--remove", "a", "--tag", "a"]).stdout
        XCTAssertTrue(out.contains("modified tags on 1 snapshot"), out)
        let listed = try snap.expect(0, ["-r", repo, "--json", "snapshots"]).stdout
        let snapshots = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
        XCTAssertEqual(snapshots.count, 1)
        XCTAssertEqual(snapshots.first?["tags"] as? [String], ["b", "c"])
        XCTAssertEqual(try snap.run(["-r", repo, "tag", "--set", "x", "--add", "y"]).status, 64)
        XCTAssertEqual(try snap.run(["-r", repo, "snapshots", "-q", "-v"]).status, 64, "--quiet and --verbose, as restic refuses them")

        // A snapshot named outright is taken whatever the filters say (they only choose
        // what `latest` means), and once however often it is named, as restic does.
        let id = try XCTUnwrap(snapshots.first?["id"] as? String)
        let named = try snap.expect(0, ["-r", repo, "tag", "--add", "d", "--host", "elsewhere", id, String(id.prefix(8))]).stdout
        XCTAssertTrue(named.contains("modified tags on 1 snapshot"), named)
        let relisted = try snap.expect(0, ["-r", repo, "--json", "snapshots"]).stdout
        let tagged = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(relisted.utf8)) as? [[String: Any]])
        XCTAssertEqual(tagged.first?["tags"] as? [String], ["b", "c", "d"])
        // `latest` among no matching snapshot: passed over with a warning, as restic does.
        let none = try snap.expect(0, ["-r", repo, "tag", "--add", "e", "--host", "elsewhere", "latest"])
        XCTAssertTrue(none.stderr.contains("warning: ignoring 'latest': no snapshot matches"), none.stderr)
        XCTAssertFalse(try snap.expect(0, ["-r", repo, "--json", "snapshots"]).stdout.contains("\"e\""), "nothing tagged")
        try snap.expect(0, ["-r", repo, "check"])
    }

    func testListPrintsFileIDs() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src"])
        for (kind, folder) in [("snapshots", "snapshots"), ("index", "index"), ("keys", "keys")] {
            let listed = try snap.expect(0, ["-r", repo, "list", kind]).stdout.split(separator: "\n").map(String.init)
            let files = try FileManager.default.contentsOfDirectory(atPath: "\(repo)/\(folder)").filter { !$0.hasPrefix(".") }.sorted()
            XCTAssertEqual(listed, files, kind)
        }
        let packs = try snap.expect(0, ["-r", repo, "list", "packs"]).stdout.split(separator: "\n")
        XCTAssertFalse(packs.isEmpty)
        XCTAssertEqual(try snap.expect(0, ["-r", repo, "list", "locks"]).stdout, "")
        XCTAssertEqual(try snap.run(["-r", repo, "list", "nonsense"]).status, 64)

        // blobs: every blob of the index as restic prints it, the snapshot's root tree among them.
        let blobs = try snap.expect(0, ["-r", repo, "list", "blobs"]).stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(blobs.allSatisfy { $0.range(of: "^(data|tree) [0-9a-f]{64}$", options: .regularExpression) != nil }, "\(blobs)")
        XCTAssertEqual(Set(blobs).count, blobs.count)
        let listed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "--json", "snapshots"]).stdout.utf8)) as? [[String: Any]])
        let root = try XCTUnwrap(listed.first?["tree"] as? String)
        XCTAssertTrue(blobs.contains("tree \(root)"), "\(blobs)")
        XCTAssertTrue(blobs.contains { $0.hasPrefix("data ") })
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "--json", "list", "blobs"]).stdout.utf8)) as? [[String: String]])
        XCTAssertEqual(json.map { "\($0["type"] ?? "?") \($0["id"] ?? "?")" }, blobs)
    }

    func testStats() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src"])
        for mode in ["restore-size", "files-by-contents", "raw-data", "blobs-per-file"] {
            let out = try snap.expect(0, ["-r", repo, "stats", "--mode", mode]).stdout
            XCTAssertTrue(out.contains("Stats in \(mode) mode:"), out)
            XCTAssertTrue(out.contains("Snapshots processed:  1"), out)
        }
        let json = try snap.expect(0, ["-r", repo, "--json", "stats", "latest"]).stdout
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["snapshots_count"] as? Int, 1)
        XCTAssertNotNil(object["repository"] as? [String: Any])
        XCTAssertEqual(try snap.run(["-r", repo, "stats", "--mode", "everything"]).status, 64)
    }

    // restic's ls: several paths, only their entries without --recursive, symlink targets and
    // special mode bits in --long, NDJSON with the snapshot first.
    func testLs() throws {
        let repo = "\(work)/repo", src = "\(work)/src"
        try FileManager.default.createDirectory(atPath: "\(src)/sub/deeper", withIntermediateDirectories: true)
        try "x".write(toFile: "\(src)/sub/tool", atomically: false, encoding: .utf8)
        try "y".write(toFile: "\(src)/sub/deeper/g", atomically: false, encoding: .utf8)
        chmod("\(src)/sub/tool", 0o4755)
        chmod("\(src)/sub/deeper", 0o1777)
        try FileManager.default.createSymbolicLink(atPath: "\(src)/sub/link", withDestinationPath: "tool")
        let owned = lchown("\(src)/sub/link", 2_147_483_648, 3_000_000_000) == 0  // as root
        try snap.expect(0, ["-r", repo, "backup", src])
        let plain = try snap.expect(0, ["-r", repo, "ls", "-q", "latest", "\(src)/sub", "\(src)/a.txt"]).stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(plain, ["\(src)/sub", "\(src)/sub/deeper", "\(src)/sub/link", "\(src)/sub/tool", "\(src)/a.txt"])
        let deep = try snap.expect(0, ["-r", repo, "ls", "--recursive", "latest", "\(src)/sub"]).stdout
        XCTAssertTrue(deep.contains("\(src)/sub/deeper/g"), deep)
        let long = try snap.expect(0, ["-r", repo, "ls", "-l", "latest", "\(src)/sub"]).stdout
        XCTAssertTrue(long.contains("-rwsr-xr-x"), long)
        XCTAssertTrue(long.contains("drwxrwxrwt"), long)
        XCTAssertTrue(long.contains("\(src)/sub/link -> tool"), long)
        if owned { XCTAssertTrue(long.contains(" 2147483648 3000000000 "), "owners are never cut: \(long)") }
        try FileManager.default.createDirectory(atPath: "\(src)/large", withIntermediateDirectories: false)
        try Data(count: 3 << 20).write(to: URL(fileURLWithPath: "\(src)/large/big"))
        try snap.expect(0, ["-r", repo, "backup", src, "-q"])
        let exact = try snap.expect(0, ["-r", repo, "ls", "-l", "latest", "\(src)/large/big"]).stdout
        XCTAssertTrue(exact.contains(" 3145728 "), exact)
        let human = try snap.expect(0, ["-r", repo, "ls", "-l", "--human-readable", "latest", "\(src)/large/big"]).stdout
        XCTAssertTrue(human.contains(" 3.00 MiB ") && !human.contains("3145728"), human)
        let found = try snap.expect(0, ["-r", repo, "find", "-l", "--human-readable", "big"]).stdout
        XCTAssertTrue(found.contains(" 3.00 MiB "), found)
        let json = try snap.expect(0, ["-r", repo, "--json", "ls", "latest", "\(src)/sub"]).stdout
        let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(json.split(separator: "\n").first).utf8)) as? [String: Any])
        XCTAssertEqual(first["message_type"] as? String, "snapshot")
        XCTAssertEqual(try lsNodes(json).count, 4)
        let missing = try snap.run(["-r", repo, "ls", "latest", "\(src)/nope"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("is not in snapshot"), missing.stderr)
    }

    // dump: a file as it is; a folder as tar that GNU tar extracts to what restore writes.
    func testDumpMatchesRestore() throws {
        let repo = "\(work)/repo", src = "\(work)/src"
        try FileManager.default.createDirectory(atPath: "\(src)/sub", withIntermediateDirectories: true)
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: "\(src)/sub/big"))
        try FileManager.default.createSymbolicLink(atPath: "\(src)/sub/link", withDestinationPath: "big")
        try FileManager.default.linkItem(atPath: "\(src)/sub/big", toPath: "\(src)/hard")
        try snap.expect(0, ["-r", repo, "backup", src])
        try snap.expect(0, ["-r", repo, "dump", "latest", "\(src)/sub/big", "--target", "\(work)/one"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(work)/one")), try Data(contentsOf: URL(fileURLWithPath: "\(src)/sub/big")))
        try snap.expect(0, ["-r", repo, "dump", "latest", src, "--target", "\(work)/all.tar"])
        try FileManager.default.createDirectory(atPath: "\(work)/fromtar", withIntermediateDirectories: false)
        XCTAssertEqual(try runTool("/bin/tar", ["-x", "-f", "\(work)/all.tar", "-C", "\(work)/fromtar"]).status, 0)
        try snap.expect(0, ["-r", repo, "restore", "latest", "--target", "\(work)/restored"])
        var comparison = TreeComparison()
        comparison.compare(Array("\(work)/restored\(src)".utf8), Array("\(work)/fromtar\(src)".utf8), compareOwners: false)
        XCTAssertEqual(comparison.differences, [])
        let missing = try snap.run(["-r", repo, "dump", "latest", "\(src)/nope"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("is not in the snapshot"), missing.stderr)
    }

    // Completions load in bash, zsh and fish (where installed: make test installs them); every command has a man page that man renders.
    func testGenerateCompletionsAndManPages() throws {
        try snap.expect(0, ["generate", "--bash-completion", "\(work)/snap.bash", "--zsh-completion", "\(work)/_snap",
                            "--fish-completion", "\(work)/snap.fish", "--man", "\(work)/man"])
        let bash = try runTool("/bin/bash", ["-c", "source \(work)/snap.bash && complete -p snap"])
        XCTAssertEqual(bash.status, 0)
        XCTAssertTrue(bash.stdout.contains("snap"), bash.stdout)
        XCTAssertTrue(try String(contentsOfFile: "\(work)/_snap", encoding: .utf8).hasPrefix("#compdef snap"))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh") {
            // compinit registers _snap as the completer of snap once the file is loaded.
            let zsh = try runTool("/usr/bin/zsh", ["-f", "-c", "autoload -U compinit && compinit -u -d \(work)/zcompdump && source \(work)/_snap && print -r -- $_comps[snap]"])
            XCTAssertEqual(zsh.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "_snap", zsh.stdout)
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/fish") {
            let fish = try runTool("/usr/bin/fish", ["--no-config", "-c", "source \(work)/snap.fish; complete -C'snap ba'; complete -C'snap backup --ta'"])
            XCTAssertTrue(fish.stdout.contains("backup\t"), fish.stdout)
            XCTAssertTrue(fish.stdout.contains("--tag\t"), fish.stdout)
        }
        let pages = try FileManager.default.contentsOfDirectory(atPath: "\(work)/man")
        for page in ["snap.1", "snap-backup.1", "snap-key-passwd.1", "snap-mirror-status.1", "snap-dump.1"] {
            XCTAssertTrue(pages.contains(page), "\(page) in \(pages)")
        }
        let page = try String(contentsOfFile: "\(work)/man/snap-backup.1", encoding: .utf8)
        XCTAssertTrue(page.hasPrefix(".TH SNAP\\-BACKUP 1"), page)
        XCTAssertTrue(page.contains("\\-\\-exclude"), "the options come from --help")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/man") else { return }
        let shown = try runTool("/usr/bin/man", ["-l", "\(work)/man/snap-backup.1"],
                                environment: ["MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "80", "PATH": "/usr/bin:/bin"]).stdout
        XCTAssertTrue(shown.contains("snap-backup - Back up files"), shown)
    }

    func testRewrite() throws {
        let repo = "\(work)/repo"
        try "secret\n".write(toFile: "\(work)/src/password.txt", atomically: false, encoding: .utf8)
        try "*.log\n# comment\n\npassword.txt\n".write(toFile: "\(work)/excludes", atomically: false, encoding: .utf8)
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src"])
        let out = try snap.expect(0, ["-r", repo, "rewrite", "--exclude-file", "\(work)/excludes", "--forget"]).stdout
        XCTAssertTrue(out.contains("1 snapshot rewritten"), out)
        let listing = try snap.expect(0, ["-r", repo, "ls", "latest"]).stdout
        XCTAssertFalse(listing.contains("password.txt"), listing)
        XCTAssertTrue(listing.contains("a.txt"), listing)
        let snapshots = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "--json", "snapshots"]).stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(snapshots.count, 1)
        XCTAssertNotNil(snapshots.first?["original"] as? String)
        try snap.expect(0, ["-r", repo, "prune"])
        try snap.expect(0, ["-r", repo, "check", "--read-data"])
    }

    // restic 0.17's --new-host and --new-time: a snapshot with nothing to exclude is still
    // rewritten when its host or time changes; one that already has them is left alone.
    func testRewriteHostAndTime() throws {
        let repo = "\(work)/repo"
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src", "--host", "old-name", "-q"])
        let dry = try snap.expect(0, ["-r", repo, "rewrite", "-n", "--new-host", "new-name"]).stdout
        XCTAssertTrue(dry.contains("would remove 0 entries (0 B) and set host new-name"), dry)
        let out = try snap.expect(0, ["-r", repo, "rewrite", "--new-host", "new-name", "--new-time", "2020-02-03T04:05:06Z", "--forget"]).stdout
        XCTAssertTrue(out.contains("1 snapshot rewritten") && !out.contains("prune"), "nothing to free: \(out)")
        let listed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "--json", "snapshots"]).stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(listed.count, 1)
        XCTAssertEqual(listed.first?["hostname"] as? String, "new-name")
        XCTAssertEqual((listed.first?["time"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) },
                       ISO8601DateFormatter().date(from: "2020-02-03T04:05:06Z"))
        XCTAssertNotNil(listed.first?["original"] as? String)
        let again = try snap.expect(0, ["-r", repo, "rewrite", "--new-host", "new-name"]).stdout
        XCTAssertTrue(again.contains("0 snapshots rewritten"), again)
        let refused = try snap.run(["-r", repo, "rewrite"])
        XCTAssertEqual(refused.status, 64)
        XCTAssertTrue(refused.stderr.contains("nothing to rewrite"), refused.stderr)
        XCTAssertEqual(try snap.run(["-r", repo, "rewrite", "--new-time", "yesterday"]).status, 64)
        try snap.expect(0, ["-r", repo, "check", "-q"])
    }

    // restic's `cat blob` (the content as it is) and `cat key` (the key file as stored).
    func testCatBlobAndKey() throws {
        let repo = "\(work)/repo"
        try "only chunk of this file\n".write(toFile: "\(work)/src/one.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src", "-q"])
        let node = try XCTUnwrap(try lsNodes(try snap.expect(0, ["-r", repo, "--json", "ls", "latest", "\(work)/src/one.txt"]).stdout).first)
        let content = try XCTUnwrap((node["content"] as? [String])?.first)
        XCTAssertEqual(try snap.expect(0, ["-r", repo, "cat", "blob", String(content.prefix(10))]).stdout, "only chunk of this file\n")
        let key = try XCTUnwrap(try snap.expect(0, ["-r", repo, "list", "keys"]).stdout.split(separator: "\n").first)
        let keyJSON = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "cat", "key", String(key.prefix(8))]).stdout.utf8)) as? [String: Any])
        XCTAssertEqual(keyJSON["kdf"] as? String, "scrypt")
        XCTAssertNotNil(keyJSON["data"] as? String)
        let none = try snap.run(["-r", repo, "cat", "blob", "00000000000000"])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("no blob 00000000000000"), none.stderr)
        XCTAssertEqual(try snap.run(["-r", repo, "cat", "masterkey"]).status, 64, "the master keys are not printed")
    }

    func testCopy() throws {
        let repo = "\(work)/repo", other = "\(work)/other"
        try snap.expect(0, ["-r", repo, "backup", "\(work)/src"])
        try "other pw\n".write(toFile: "\(work)/otherpw", atomically: false, encoding: .utf8)
        try "pw\n".write(toFile: "\(work)/pw", atomically: false, encoding: .utf8)
        try snap.expect(0, ["init", "-r", other, "--password-file", "\(work)/otherpw"])
        let copied = try snap.expect(0, ["-r", other, "--password-file", "\(work)/otherpw", "copy", "--from-repo", repo,
                                         "--from-password-file", "\(work)/pw"]).stdout
        XCTAssertTrue(copied.contains("copied 1 snapshots"), copied)
        let again = try snap.expect(0, ["-r", other, "--password-file", "\(work)/otherpw", "copy", "--from-repo", repo,
                                        "--from-password-command", "cat \(work)/pw"]).stdout
        XCTAssertTrue(again.contains("1 snapshots were already copied"), again)
        // restic's --from-repository-file: the location alone, white space around it removed.
        try "  \(repo)\n".write(toFile: "\(work)/from-location", atomically: false, encoding: .utf8)
        let viaFile = try snap.expect(0, ["-r", other, "--password-file", "\(work)/otherpw", "copy", "--from-repository-file",
                                          "\(work)/from-location", "--from-password-file", "\(work)/pw"]).stdout
        XCTAssertTrue(viaFile.contains("1 snapshots were already copied"), viaFile)
        // Both repository files as pipes, as bash's <(command) gives them (campaign 25 N2).
        let piped = try runTool("/bin/bash", ["-c", "'\(SnapProcess.binary)' --repo-file <(echo '\(other)') --password-file '\(work)/otherpw' "
                                              + "copy --from-repository-file <(echo '\(repo)') --from-password-file '\(work)/pw'"],
                                environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SNAP_") })
        XCTAssertEqual(piped.status, 0)
        XCTAssertTrue(piped.stdout.contains("1 snapshots were already copied"), piped.stdout)
        let both = try snap.run(["-r", other, "--password-file", "\(work)/otherpw", "copy", "--from-repo", repo,
                                 "--from-repository-file", "\(work)/from-location"])
        XCTAssertEqual(both.status, 64, both.stderr)
        try snap.expect(0, ["-r", other, "--password-file", "\(work)/otherpw", "check", "--read-data"])
        try snap.expect(0, ["-r", other, "--password-file", "\(work)/otherpw", "restore", "latest", "--target", "\(work)/out"])
        XCTAssertEqual(try String(contentsOfFile: "\(work)/out\(work)/src/a.txt", encoding: .utf8), "hello\n")
        let wrong = try snap.run(["-r", other, "--password-file", "\(work)/otherpw", "copy", "--from-repo", repo,
                                  "--from-password-file", "\(work)/otherpw"])
        XCTAssertEqual(wrong.status, 12)
        XCTAssertTrue(wrong.stderr.contains("cannot open the source repository"), wrong.stderr)
    }

    // The source of a copy has its own cache (so its index is a mapped table, not memory),
    // in a folder named by the source's repository ID, beside the destination's.
    func testCopyCachesTheSourceUnderItsOwnID() throws {
        let repo = "\(work)/repo", other = "\(work)/other", cache = "\(work)/cache"
        try snap.expect(0, ["-r", repo, "--no-cache", "backup", "\(work)/src"])
        try snap.expect(0, ["init", "-r", other])
        try "pw\n".write(toFile: "\(work)/pw", atomically: false, encoding: .utf8)
        try snap.expect(0, ["-r", other, "--cache-dir", cache, "copy", "--from-repo", repo, "--from-password-file", "\(work)/pw"])
        let id = { (location: String) throws -> String in
            let config = try self.snap.expect(0, ["-r", location, "--no-cache", "cat", "config"]).stdout
            let object = try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any]
            return try XCTUnwrap(object?["id"] as? String)
        }
        let sourceID = try id(repo), destinationID = try id(other)
        XCTAssertNotEqual(sourceID, destinationID)
        let folders = Set(try FileManager.default.contentsOfDirectory(atPath: cache))
        XCTAssertTrue(folders.isSuperset(of: [sourceID, destinationID]), "\(folders)")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: "\(cache)/\(sourceID)/snapshots").isEmpty)
        try snap.expect(0, ["-r", other, "--no-cache", "check"])
    }

    // restic's SNAPSHOT:subfolder form in ls, dump, restore and diff.
    func testSnapshotSubfolderForm() throws {
        let repo = "\(work)/repo", src = "\(work)/src"
        try FileManager.default.createDirectory(atPath: "\(src)/sub", withIntermediateDirectories: true)
        try "inner\n".write(toFile: "\(src)/sub/in.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["-r", repo, "backup", src])
        try "changed\n".write(toFile: "\(src)/sub/in.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["-r", repo, "backup", src])
        XCTAssertEqual(try snap.expect(0, ["-r", repo, "ls", "-q", "latest:\(src)"]).stdout, "/a.txt\n/sub\n/sub/in.txt\n")
        XCTAssertEqual(try snap.expect(0, ["-r", repo, "dump", "latest:\(src)/sub", "/in.txt"]).stdout, "changed\n")
        try snap.expect(0, ["-r", repo, "restore", "latest:\(src)", "--target", "\(work)/only"])
        XCTAssertEqual(try String(contentsOfFile: "\(work)/only/sub/in.txt", encoding: .utf8), "changed\n")
        let ids = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "--json", "snapshots"]).stdout.utf8)) as? [[String: Any]]).compactMap { $0["id"] as? String }
        let diff = try snap.expect(0, ["-r", repo, "diff", "\(ids[0]):\(src)/sub", "\(ids[1]):\(src)/sub"]).stdout
        XCTAssertTrue(diff.contains("M    /in.txt"), diff)
        let missing = try snap.run(["-r", repo, "ls", "latest:/not/there"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("is not a folder in snapshot"), missing.stderr)
    }
}
