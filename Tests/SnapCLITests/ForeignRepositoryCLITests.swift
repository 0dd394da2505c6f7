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
        try expectOneLine("\(work)/restic", "\(work)/restic is a restic repository, not a snap repository (snap cannot read it yet)")
    }

    // borg 1.x and kopia layouts, as their files show them.
    func testBorgAndKopiaRepositories() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(work)/borg/data/0", withIntermediateDirectories: true)
        try "This is a Borg Backup repository.\nSee https://borgbackup.readthedocs.io/\n".write(toFile: "\(work)/borg/README", atomically: false, encoding: .utf8)
        try "[repository]\nversion = 1\nsegments_per_dir = 1000\n".write(toFile: "\(work)/borg/config", atomically: false, encoding: .utf8)
        try expectOneLine("\(work)/borg", "is a borg repository, not a snap repository")
        try fm.removeItem(atPath: "\(work)/borg/README")
        try expectOneLine("\(work)/borg", "is a borg repository, not a snap repository")

        try fm.createDirectory(atPath: "\(work)/kopia", withIntermediateDirectories: true)
        try "{}".write(toFile: "\(work)/kopia/kopia.repository.f", atomically: false, encoding: .utf8)
        try expectOneLine("\(work)/kopia", "is a kopia repository, not a snap repository")
    }

    // Files, devices and the kernel's file systems are named as such.
    func testNonFoldersAndKernelFileSystems() throws {
        try "x".write(toFile: "\(work)/file", atomically: false, encoding: .utf8)
        try expectOneLine("\(work)/file", "is a regular file: a snap repository is a folder")
        try expectOneLine("\(work)/file/below", "is below a file")
        try expectOneLine("/dev/null", "is a character device")
        try expectOneLine("/proc/self", "is on the proc file system")
        // An empty folder is still simply not a repository yet (restic's code 10).
        try expectOneLine(work, "run 'snap init' to create one", status: 10)
    }
}
