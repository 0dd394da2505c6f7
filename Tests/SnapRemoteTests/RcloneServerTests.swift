import Foundation
import SnapRemote
import SnapStorage
import SnapTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The `rclone serve restic` child behind `rclone:` locations, against the real rclone.
final class RcloneServerTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        _ = try RemoteTestServers.require("REST_URL", server: "REST")  // the server scripts install rclone
        folder = NSTemporaryDirectory() + RemoteTestServers.uniqueName("rclone-server")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The command lines of running `rclone serve` processes for `folder`.
    private func servers() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard Int32(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let line = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return line.first.map({ $0.hasSuffix("rclone") }) == true && line.contains(folder) ? line.joined(separator: " ") : nil
        }
    }

    // A write the server fails (its disk full: rclone 1.60 answers 500 after writing part of
    // the file in place) leaves nothing under the file's name, as restic's REST backend
    // ensures too: the partial file read as a damaged index or snapshot (campaign 12 F2).
    func testAWriteTheServerFailsLeavesNoPartialFile() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "snap-test", folder]).status == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root and mount rights)")
        }
        defer { _ = try? runTool("/bin/umount", [folder]) }
        let server = try RcloneServer(remote: folder)
        let backend = RESTBackend(rclone: server)
        try backend.create()
        let file = FileName(.index, BackendConformance.fileName(7))
        XCTAssertThrowsError(try backend.write(file, data: [UInt8](repeating: 7, count: 3 << 20))) { error in
            XCTAssertTrue("\(error)".contains("500"), "\(error)")
        }
        XCTAssertEqual(try backend.list(.index), [], "no partial index file is left")
        let path = "\(folder)/index/\(file.name)"
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), path)
    }

    // The loopback port is open to every user of the machine: the server refuses requests
    // without the credentials drawn for this run, which appear on no command line.
    func testServerAnswersOnlyWithItsCredentials() throws {
        let server = try RcloneServer(remote: folder)
        XCTAssertThrowsError(try RESTBackend(url: server.url).create(), "no credentials") { error in
            XCTAssertTrue("\(error)".contains("401"), "\(error)")
        }
        XCTAssertThrowsError(try RESTBackend(url: server.url, username: server.username, password: "wrong").create(), "wrong password")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/keys"), "nothing was created without the credentials")

        let backend = RESTBackend(rclone: server)
        try backend.create()
        try backend.write(.config, data: Array("x".utf8))
        XCTAssertEqual(try backend.read(.config), Array("x".utf8))
        let lines = servers()
        XCTAssertEqual(lines.count, 1, "\(lines)")
        XCTAssertFalse(lines.joined().contains(server.password), "the password is not on rclone's command line")
        XCTAssertEqual(server.username.count, 32)
        XCTAssertEqual(server.password.count, 32)
    }

    // Stopping the server (or dropping the backend that holds it) ends rclone.
    func testRcloneEndsWhenTheBackendIsGone() throws {
        var backend: RESTBackend? = RESTBackend(rclone: try RcloneServer(remote: folder))
        try backend?.create()
        XCTAssertEqual(servers().count, 1)
        backend = nil
        var waited = 0
        while !servers().isEmpty && waited < 100 { usleep(50_000); waited += 1 }
        XCTAssertEqual(servers(), [], "rclone ended within 5 s")
    }

    // A program that is not there: one line that says what to install.
    func testMissingRcloneSaysWhatToInstall() throws {
        XCTAssertThrowsError(try RcloneServer(remote: folder, rclone: "rclone-not-installed-here")) { error in
            XCTAssertTrue("\(error)".contains("cannot run rclone-not-installed-here"), "\(error)")
            XCTAssertTrue("\(error)".contains("apt-get install rclone"), "\(error)")
        }
    }
}
