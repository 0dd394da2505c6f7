import Foundation
import SnapTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end faults around the lock protocol and durability (signals, failing folder
/// fsyncs, skewed clocks, a hanging password command): no data lost, no lock left behind,
/// one clear line.
final class FaultTests: XCTestCase {
    var work = ""
    var repo = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("fault")
        repo = "\(work)/repo"
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": repo, "SNAP_PASSWORD": "pw", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: false)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// `count` files of `megabytes` MiB of random bytes each in `folder`.
    private func randomFiles(_ folder: String, count: Int, megabytes: Int) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 0..<count {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/head")
            p.arguments = ["-c", "\(megabytes << 20)", "/dev/urandom"]
            _ = FileManager.default.createFile(atPath: "\(folder)/f\(i)", contents: nil)
            p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(folder)/f\(i)"))
            try p.run()
            p.waitUntilExit()
        }
    }

    private func names(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(repo)/\(folder)")) ?? []).filter { !$0.hasPrefix(".") }
    }

    /// Starts `snap ARGS` (optionally under a prefix such as faketime) without waiting.
    private func start(_ arguments: [String], prefix: [String] = [], environment: [String: String] = [:]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: prefix.first ?? SnapProcess.binary)
        process.arguments = prefix.isEmpty ? arguments : Array(prefix.dropFirst()) + [SnapProcess.binary] + arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SNAP_") }
        env.merge(snap.environment) { $1 }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, err)
    }

    /// Waits until the backup holds its lock, then stops process `pid` (SIGSTOP) so that
    /// the test decides what happens next.
    private func stopOnceLocked(_ process: Process, pid: pid_t? = nil) throws {
        var waited = 0
        while names("locks").isEmpty && process.isRunning && waited < 20_000 { usleep(500); waited += 1 }
        XCTAssertTrue(process.isRunning, "the backup was still running when its lock appeared")
        kill(pid ?? process.processIdentifier, SIGSTOP)
    }

    /// The command prefix that runs snap with its clock shifted by `shift` (e.g. "+20m").
    /// (Preloading libfaketime without its wrapper loses snap's arguments here.)
    private func fakeClock(_ shift: String) throws -> [String] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/faketime") else {
            throw XCTSkip("faketime is not installed (scripts/install-deps.sh installs it)")
        }
        return ["/usr/bin/faketime", "-f", shift]
    }

    /// The process ID of the first child of `parent` (snap under the faketime wrapper).
    private func child(of parent: pid_t) -> pid_t? {
        for _ in 0..<2000 {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            for entry in entries {
                guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 1, pid_t(fields[1]) == parent { return pid }
            }
            usleep(1000)
        }
        return nil
    }

    // MARK: Signals

    // SIGINT and SIGTERM mid-backup: exit 128+N, one line saying nothing was saved, the lock
    // removed at once (other hosts need not wait for it to go stale), a repository check accepts.
    func testSignalsMidBackupRemoveTheLockAndSayNothingWasSaved() throws {
        try randomFiles("\(work)/src", count: 4, megabytes: 16)
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143)), (SIGHUP, Int32(129))] {
            let (backup, err) = try start(["backup", "\(work)/src"])
            try stopOnceLocked(backup)
            kill(backup.processIdentifier, signal)
            kill(backup.processIdentifier, SIGCONT)
            backup.waitUntilExit()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(backup.terminationStatus, status, stderr)
            XCTAssertTrue(stderr.contains("interrupted by SIG"), stderr)
            XCTAssertTrue(stderr.contains("nothing was saved"), stderr)
            XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
            XCTAssertEqual(names("locks"), [], "no lock left behind")
            XCTAssertEqual(names("snapshots"), [], "no snapshot")
            try snap.expect(0, ["check"])
        }
        try snap.expect(0, ["backup", "\(work)/src"])
        try snap.expect(0, ["check", "--read-data"])
    }

    // A signal while the repository does not answer (the REST server stopped): snap says at
    // once what it waits for instead of staying silent, and once the server answers again
    // it removes its lock and exits 130.
    func testInterruptionSaysWhatItWaitsForWhileTheRepositoryHangs() throws {
        let data = try serverSetting("REST_DATA"), url = try serverSetting("REST_URL")
        let pidFile = URL(fileURLWithPath: data).deletingLastPathComponent().appendingPathComponent("rclone.pid").path
        let server = try XCTUnwrap(pid_t(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let name = "interrupt-\(UUID().uuidString)"
        let remote = ["SNAP_REPOSITORY": "rest:\(url)\(name)/"]
        try SnapProcess(environment: snap.environment.merging(remote) { $1 }).expect(0, ["init"])
        try randomFiles("\(work)/src", count: 4, megabytes: 16)
        let locks = "\(data)/\(name)/locks"
        let (backup, err) = try start(["backup", "\(work)/src"], environment: remote)
        var waited = 0
        while ((try? FileManager.default.contentsOfDirectory(atPath: locks)) ?? []).isEmpty && backup.isRunning && waited < 20_000 {
            usleep(500); waited += 1
        }
        kill(server, SIGSTOP)
        defer { kill(server, SIGCONT) }
        kill(backup.processIdentifier, SIGINT)
        sleep(4)
        XCTAssertTrue(backup.isRunning, "waiting for the repository")
        kill(server, SIGCONT)
        backup.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(backup.terminationStatus, 130, stderr)
        XCTAssertTrue(stderr.contains("interrupted by SIGINT: removing the lock and indexing what was uploaded; interrupt again to leave at once"), stderr)
        XCTAssertTrue(stderr.contains("interrupted by SIGINT: nothing was saved"), stderr)
        XCTAssertEqual(((try? FileManager.default.contentsOfDirectory(atPath: locks)) ?? []).filter { !$0.hasPrefix(".") }, [])
    }

    // A backup interrupted once it has uploaded packs names them in an index file before it
    // removes its lock: the next backup reuses them (it lists the repository's packs only
    // after a writer died without that chance).
    func testInterruptedBackupIndexesTheUploadedPacksForTheNext() throws {
        try randomFiles("\(work)/src", count: 8, megabytes: 16)
        func packs() -> Int { names("data").reduce(0) { $0 + names("data/\($1)").count } }
        let (backup, err) = try start(["backup", "\(work)/src"])
        var waited = 0
        // A pack is visible once linked, and counts as uploaded once its folder is synced: each
        // of the two upload threads may be between the two. A third pack means that one of them
        // has finished one since, so at least one pack counts.
        while packs() < 3 && backup.isRunning && waited < 60_000 { usleep(500); waited += 1 }
        kill(backup.processIdentifier, SIGSTOP)
        XCTAssertTrue(backup.isRunning, "the backup was still running after uploading three packs")
        let uploaded = packs()
        kill(backup.processIdentifier, SIGINT)
        kill(backup.processIdentifier, SIGCONT)
        backup.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(backup.terminationStatus, 130, stderr)
        XCTAssertEqual(names("locks"), [])
        XCTAssertEqual(names("index").count, 1, "one index file for the packs uploaded before the signal")

        let summary = try snap.expect(0, ["backup", "\(work)/src", "--json"]).stdout.split(separator: "\n").last.map(String.init) ?? ""
        let fields = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any])
        let added = try XCTUnwrap(fields["data_added"] as? Int)
        XCTAssertLessThanOrEqual(added, (8 - (uploaded - 2)) * 16 << 20 + (1 << 20),
                                 "the \(uploaded) packs uploaded before the signal (all but the two that may be finishing) were reused")
        try snap.expect(0, ["check", "--read-data"])
    }

    // A password command that hangs is ended after the timeout with a clear error.
    func testHangingPasswordCommandTimesOut() throws {
        let started = Date()
        let result = try snap.run(["snapshots", "--password-command", "sleep 60", "--password-command-timeout", "1"],
                                  extraEnvironment: ["SNAP_PASSWORD": ""])
        XCTAssertEqual(result.status, 1)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20)
        XCTAssertTrue(result.stderr.contains("password command did not finish within 1 s"), result.stderr)
    }

    // MARK: rclone

    /// A repository behind `rclone serve` (an `rclone:` location on a local folder).
    private func rcloneRepository() throws -> (location: String, folder: String) {
        _ = try serverSetting("REST_URL")  // the server scripts install rclone
        let folder = "\(work)/rclone-repo"
        try SnapProcess(environment: snap.environment.merging(["SNAP_REPOSITORY": "rclone:\(folder)"]) { $1 }).expect(0, ["init"])
        return ("rclone:\(folder)", folder)
    }

    /// The process IDs of `rclone serve` children serving `folder`.
    private func rcloneServers(_ folder: String) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = pid_t(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let line = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return line.first.map({ $0.hasSuffix("rclone") }) == true && line.contains(folder) ? pid : nil
        }
    }

    /// Starts a backup of 64 MiB to the rclone repository in a session of its own (as from a
    /// terminal) and waits until it holds its lock; returns the launcher and snap's process ID.
    private func startRcloneBackup(_ location: String, _ folder: String) throws -> (Process, Pipe, pid_t) {
        try randomFiles("\(work)/src", count: 4, megabytes: 16)
        let (launcher, err) = try start(["backup", "\(work)/src"], prefix: ["/usr/bin/setsid", "-w", "-f"], environment: ["SNAP_REPOSITORY": location])
        let backup = try XCTUnwrap(child(of: launcher.processIdentifier), "snap started under setsid")
        var waited = 0
        while ((try? FileManager.default.contentsOfDirectory(atPath: "\(folder)/locks")) ?? []).isEmpty && launcher.isRunning && waited < 20_000 {
            usleep(500); waited += 1
        }
        XCTAssertTrue(launcher.isRunning, "the backup was still running when its lock appeared")
        XCTAssertNotEqual(getpgid(backup), getpgid(0), "snap leads a process group of its own")
        return (launcher, err, backup)
    }

    // Ctrl-C at a terminal signals snap's whole process group: the rclone server it started
    // is in a group of its own and serves the cleanup, which removes the lock through it.
    func testCtrlCAtTheTerminalLeavesNoLockInAnRcloneRepository() throws {
        let (location, folder) = try rcloneRepository()
        let (launcher, err, backup) = try startRcloneBackup(location, folder)
        kill(backup, SIGSTOP)
        kill(-getpgid(backup), SIGINT)
        kill(backup, SIGCONT)
        launcher.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(launcher.terminationStatus, 130, stderr)
        XCTAssertTrue(stderr.contains("interrupted by SIGINT"), stderr)
        XCTAssertFalse(stderr.contains("warning"), "no failed requests during the cleanup: \(stderr)")
        XCTAssertEqual(((try? FileManager.default.contentsOfDirectory(atPath: "\(folder)/locks")) ?? []).filter { !$0.hasPrefix(".") }, [],
                       "the lock was removed through rclone")
        var waited = 0
        while !rcloneServers(folder).isEmpty && waited < 100 { usleep(50_000); waited += 1 }
        XCTAssertEqual(rcloneServers(folder), [], "rclone ended with snap")
        try SnapProcess(environment: snap.environment.merging(["SNAP_REPOSITORY": folder]) { $1 }).expect(0, ["check"])
    }

    // snap killed outright (SIGKILL, the OOM killer) cannot stop its rclone server: the
    // server's guard sees snap's end of a pipe close and ends it.
    func testRcloneServerEndsWhenSnapIsKilled() throws {
        let (location, folder) = try rcloneRepository()
        let (launcher, _, backup) = try startRcloneBackup(location, folder)
        XCTAssertEqual(rcloneServers(folder).count, 1, "one rclone server while the backup runs")
        kill(backup, SIGKILL)
        launcher.waitUntilExit()
        var waited = 0
        while !rcloneServers(folder).isEmpty && waited < 100 { usleep(50_000); waited += 1 }
        let left = rcloneServers(folder)
        for pid in left { kill(pid, SIGKILL) }
        XCTAssertEqual(left, [], "rclone ended within 5 s of snap")
    }

    // MARK: Durability

    // A folder fsync that fails (EIO) after a pack or index file was renamed into place
    // fails the backup before anything that depends on it, with one line.
    func testFailedFolderFsyncFailsTheBackupBeforeItsSnapshot() throws {
        try randomFiles("\(work)/src", count: 1, megabytes: 2)
        let shim = "\(work)/fail_folder_fsync.so"
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Shims/fail_folder_fsync.c").path
        XCTAssertEqual(try runTool("/usr/bin/cc", ["-shared", "-fPIC", "-O1", "-o", shim, source, "-ldl"]).status, 0, "the shim compiles")
        for folder in ["/index", "/snapshots"] {
            let result = try snap.run(["backup", "\(work)/src"], extraEnvironment: ["LD_PRELOAD": shim, "SNAP_TEST_FAIL_FSYNC": folder])
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("fsync folder \(repo)\(folder)"), result.stderr)
            XCTAssertFalse(result.stdout.contains("saved"), result.stdout)
            if folder == "/index" { XCTAssertEqual(names("snapshots"), [], "no snapshot after the index could not be made durable") }
            XCTAssertEqual(names("locks"), [])
        }
        try snap.expect(0, ["check", "--read-data"])
    }

    // MARK: Clocks

    // A host whose clock is two hours off the storage's gets a clear error and leaves no lock.
    func testHostWithAClockFarOffIsRefused() throws {
        try randomFiles("\(work)/src", count: 1, megabytes: 1)
        for shift in ["+2h", "-2h"] {
            // NO_FAKE_STAT: the repository's file times stay the storage's, as on a remote.
            let result = try snap.run(["backup", "\(work)/src"], prefix: try fakeClock(shift), extraEnvironment: ["NO_FAKE_STAT": "1"])
            XCTAssertEqual(result.status, 11, "a lock could not be taken: \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("this host's clock is 120 minutes"), result.stderr)
            XCTAssertTrue(result.stderr.contains("NTP"), result.stderr)
            XCTAssertEqual(names("locks"), [])
        }
    }

    // Reproduction: a backup on a host whose clock is ahead (or behind) deduplicates against
    // packs whose only snapshot was forgotten; a prune on a correct host runs meanwhile.
    // Nothing the backup's snapshot uses may be deleted.
    func testBackupWithASkewedClockBesidePruneLosesNothing() throws {
        try randomFiles("\(work)/src", count: 3, megabytes: 8)
        for shift in ["+20m", "+1h", "-1h", "-3h"] {
            try snap.expect(0, ["backup", "\(work)/src"])
            for id in names("snapshots") { try snap.expect(0, ["forget", id]) }
            let (backup, err) = try start(["backup", "\(work)/src"], prefix: try fakeClock(shift))
            let snapPID = try XCTUnwrap(child(of: backup.processIdentifier), "snap under faketime")
            try stopOnceLocked(backup, pid: snapPID)
            XCTAssertEqual(names("snapshots"), [], "clock \(shift): stopped before its snapshot")
            let prune = try snap.run(["prune"])
            kill(snapPID, SIGCONT)
            backup.waitUntilExit()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(prune.status, 0, prune.stderr)
            XCTAssertEqual(backup.terminationStatus, 0, "clock \(shift): \(stderr)")
            XCTAssertTrue(prune.stdout.contains("deleted 0 packs"), "clock \(shift): \(prune.stdout) \(prune.stderr)")
            try snap.expect(0, ["check", "--read-data"])
            try snap.expect(0, ["prune"])
            try snap.expect(0, ["check", "--read-data"])
        }
    }
}

/// How the release binary is linked.
final class ReleaseBinaryTests: XCTestCase {
    // The binary has no $ORIGIN run path: a library planted beside it is never loaded.
    func testNoOriginRunPath() throws {
        guard let binary = ProcessInfo.processInfo.environment["SNAP_BINARY"], !binary.isEmpty else {
            throw XCTSkip("only the release binary (SNAP_BINARY, set by make test) is linked for use")
        }
        let (status, text) = try runTool("/usr/bin/readelf", ["-d", binary])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(text.contains("NEEDED"), "readelf read the dynamic section")
        XCTAssertFalse(text.contains("$ORIGIN"), text)
    }
}
