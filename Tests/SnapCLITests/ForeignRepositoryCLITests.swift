import Foundation
import XCTest

/// End-to-end: a location that is not a snap repository is named as what it is, in one
/// line on standard error, with exit 1.
final class ForeignRepositoryCLITests: XCTestCase {
    var work = ""
    let snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw"])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("foreign")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    private func expectOneLine(_ location: String, _ text: String, status: Int32 = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try snap.run(["snapshots", "-r", location])
        XCTAssertEqual(result.status, status, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(text), result.stderr, file: file, line: line)
    }

    // A repository made by the real restic, when it is installed.
    func testResticRepository() throws {
        let restic = "/usr/bin/restic"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: restic), "restic is not installed")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: restic)
        process.arguments = ["init", "--repo", "\(work)/restic"]
        process.environment = ["RESTIC_PASSWORD": "pw", "HOME": work, "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        try expectOneLine("\(work)/restic", "\(work)/restic is a restic repository, not a snap repository: import its snapshots with 'snap copy --from-repo restic:\(work)/restic' (docs/from-restic.md)")
    }

    // borg 1.x and kopia layouts, as their files show them.
    func testBorgAndKopiaRepositories() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(work)/borg/data/0", withIntermediateDirectories: true)
        try "This is a Borg Backup repository.\nSee https://borgbackup.readthedocs.io/\n".write(toFile: "\(work)/borg/README", atomically: false, encoding: .utf8)
        try "[repository]\nversion = 1\nsegments_per_dir = 1000\n".write(toFile: "\(work)/borg/config", atomically: false, encoding: .utf8)
        let borgAdvice = "is a borg repository, not a snap repository: move its archives with 'borg export-tar REPO::ARCHIVE - | snap backup --stdin-tar --time TIME' (docs/from-borg-and-kopia.md)"
        try expectOneLine("\(work)/borg", "\(work)/borg " + borgAdvice)
        try fm.removeItem(atPath: "\(work)/borg/README")
        try expectOneLine("\(work)/borg", borgAdvice)

        // kopia's format blob, or (a repository whose format blob was lost) its other configuration blobs.
        let kopiaAdvice = "is a kopia repository, not a snap repository: move its snapshots as tar streams with 'snap backup --stdin-tar --time TIME' (docs/from-borg-and-kopia.md)"
        for marker in ["kopia.repository.f", "kopia.blobcfg.f", "kopia.maintenance.f"] {
            try fm.createDirectory(atPath: "\(work)/kopia-\(marker)/p00", withIntermediateDirectories: true)
            try "{}".write(toFile: "\(work)/kopia-\(marker)/\(marker)", atomically: false, encoding: .utf8)
            try expectOneLine("\(work)/kopia-\(marker)", kopiaAdvice)
        }
    }

    // A real borg 1.2 repository, when borg is installed: `borg init -e none`, one archive.
    func testRealBorgRepository() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/borg"), "borg is not installed")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/borg")
        process.arguments = ["init", "-e", "none", "\(work)/borg"]
        process.environment = ["HOME": work, "BORG_BASE_DIR": "\(work)/base", "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        try expectOneLine("\(work)/borg", "is a borg repository, not a snap repository: move its archives with 'borg export-tar")
    }

    // Files, devices and the kernel's file systems are named as such.
    func testNonFoldersAndKernelFileSystems() throws {
        try "x".write(toFile: "\(work)/file", atomically: false, encoding: .utf8)
        try expectOneLine("\(work)/file", "is a regular file: a snap repository is a folder")
        try expectOneLine("\(work)/file/below", "is below a file")
        try expectOneLine("/dev/null", "is a character device")
        try expectOneLine("/proc/self", "is on the proc file system")
        // An empty folder is still simply not a repository yet (restic's code 10), and so is
        // a folder of unrelated files (a wrong path): the message says what to run.
        try expectOneLine(work, "is not a snap repository (run 'snap init' to create one)", status: 10)
        try FileManager.default.createDirectory(atPath: "\(work)/photos/2024", withIntermediateDirectories: true)
        try "x".write(toFile: "\(work)/photos/2024/a.jpg", atomically: false, encoding: .utf8)
        try expectOneLine("\(work)/photos", "is not a snap repository (run 'snap init' to create one)", status: 10)
        // A random file where the config should be is not a key-less "damaged" repository either.
        try Data((0..<600).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: URL(fileURLWithPath: "\(work)/photos/config"))
        try expectOneLine("\(work)/photos", "is not a snap repository (run 'snap init' to create one)", status: 10)
    }

    // A snap repository whose config was deleted is not "not a repository": every command
    // says config is missing and that init would not help (exit 1, not 10), and init
    // refuses to write a new repository over the old one's files. Putting config back
    // brings the repository back whole.
    func testRepositoryWithoutConfig() throws {
        let repo = "\(work)/repo", source = "\(work)/source"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try "kept\n".write(toFile: "\(source)/a.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["init", "-r", repo])
        try snap.expect(0, ["backup", "-r", repo, source])
        let config = try XCTUnwrap(FileManager.default.contents(atPath: "\(repo)/config"))
        try FileManager.default.removeItem(atPath: "\(repo)/config")
        let keys = try FileManager.default.contentsOfDirectory(atPath: "\(repo)/keys")

        try expectOneLine(repo, "\(repo) looks like a snap repository whose config file is missing (it holds snapshots/ files): 'snap init' would not bring it back; restore config from a backup copy of the repository or from a mirror replica")
        XCTAssertFalse(try snap.run(["snapshots", "-r", repo]).stderr.contains("to create one"))

        let refused = try snap.run(["init", "-r", repo])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertEqual(refused.stdout, "")
        XCTAssertEqual(refused.stderr, "snap: local:\(repo) already holds a snap repository's files (snapshots/) but no config: init will not write over them; to use that repository again, restore its config from a backup copy or a mirror replica (docs/check-and-repair.md); for a new repository, choose an empty location\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(repo)/config"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(repo)/keys"), keys)

        XCTAssertTrue(FileManager.default.createFile(atPath: "\(repo)/config", contents: config))
        try snap.expect(0, ["check", "-r", repo])
        try snap.expect(0, ["restore", "-r", repo, "latest", "--target", "\(work)/restored"])
        XCTAssertEqual(try String(contentsOfFile: "\(work)/restored\(source)/a.txt", encoding: .utf8), "kept\n")
    }

    // A damaged config is named with what to do, and the copy the cache keeps brings it back.
    func testDamagedConfigSaysWhereACopyIs() throws {
        let repo = "\(work)/repo", source = "\(work)/source", cache = "\(work)/cache"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try "kept\n".write(toFile: "\(source)/a.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["init", "-r", repo, "--cache-dir", cache])
        try snap.expect(0, ["backup", "-r", repo, source, "--cache-dir", cache])
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: "\(repo)/config"))
        bytes[bytes.count / 2] ^= 0x01
        XCTAssertTrue(FileManager.default.createFile(atPath: "\(repo)/config", contents: bytes))

        let result = try snap.run(["snapshots", "-r", repo, "--no-cache"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("snap: config is damaged: "), result.stderr)
        XCTAssertTrue(result.stderr.contains("restore config from a backup copy of the repository, a mirror replica, or the copy in snap's cache (key-hints/*.config"), result.stderr)

        let hints = try FileManager.default.contentsOfDirectory(atPath: "\(cache)/key-hints").filter { $0.hasSuffix(".config") }
        XCTAssertEqual(hints.count, 1, "\(hints)")
        try FileManager.default.removeItem(atPath: "\(repo)/config")
        try FileManager.default.copyItem(atPath: "\(cache)/key-hints/\(hints[0])", toPath: "\(repo)/config")
        try snap.expect(0, ["check", "-r", repo, "--no-cache"])
    }
}
