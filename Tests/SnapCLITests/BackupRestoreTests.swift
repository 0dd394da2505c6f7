import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: the built `snap` binary backs up a tree with every kind of entry and
/// restores it identical.
final class BackupRestoreTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("e2e")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "correct horse"])
        try snap.expect(0, ["init"])
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    private func snapshots() throws -> [[String: Any]] {
        let out = try snap.expect(0, ["snapshots", "--json"]).stdout
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
    }

    /// Backup then restore of the full fixture gives an identical tree: every type, odd names,
    /// deep paths, hard links, xattrs, nanosecond mtimes, and the 200 MiB sparse file stays sparse.
    func testRoundTripPreservesEverything() throws {
        let source = "\(work)/source"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        try TreeFixture.build(at: source)

        try snap.expect(0, ["backup", source, "--tag", "e2e"])
        try snap.expect(0, ["restore", "latest", "--target", "\(work)/out", "--sparse"])  // --sparse: accepted, as restic's

        var comparison = TreeComparison()
        comparison.compare(Array(source.utf8), Array("\(work)/out\(source)".utf8), compareOwners: getuid() == 0)
        XCTAssertEqual(comparison.differences, [])
        XCTAssertGreaterThan(comparison.entriesCompared, 50)

        var st = stat()
        XCTAssertEqual(lstat("\(work)/out\(source)/sparse.img", &st), 0)
        XCTAssertEqual(st.st_size, TreeFixture.sparseSize)
        // 100,000 bytes of data in 200 MiB: only the blocks around the data may be allocated.
        XCTAssertLessThan(Int(st.st_blocks) * 512, 256 << 10, "the sparse file was restored with its holes filled")
    }

    /// A second backup of an unchanged tree reads no file and adds no data blob.
    func testSecondBackupOfUnchangedTreeAddsNoData() throws {
        let source = "\(work)/source"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        try TreeFixture.build(at: source)
        try snap.expect(0, ["backup", source])
        let packsBefore = try dataPacks()
        let second = try snap.expect(0, ["backup", source, "--json"]).stdout
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(second.split(separator: "\n").last).utf8)) as? [String: Any])
        XCTAssertEqual(summary["message_type"] as? String, "summary")
        XCTAssertEqual(summary["data_blobs"] as? Int, 0)
        XCTAssertEqual(summary["bytes_read"] as? Int, 0)
        XCTAssertEqual(summary["files_new"] as? Int, 0)
        XCTAssertEqual(summary["files_changed"] as? Int, 0)
        XCTAssertGreaterThan(summary["files_unmodified"] as? Int ?? 0, 10)
        let list = try snapshots()
        XCTAssertEqual(list.count, 2)
        XCTAssertEqual(list[1]["parent"] as? String, list[0]["id"] as? String)
        // Only tree packs may have been added (the folder holding the source has a new mtime).
        let added = try dataPacks().subtracting(packsBefore)
        for pack in added {
            let header = try snap.expect(0, ["cat", "pack", pack]).stdout
            XCTAssertFalse(header.contains("\"type\" : \"data\""), "second backup stored file content in \(pack)")
        }
    }

    /// No backed-up content or file name appears in plaintext in any repository file.
    func testNoPlaintextInRepository() throws {
        let source = "\(work)/secret"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        let marker = "PLAINTEXT-MARKER-\(UUID().uuidString)"
        try String(repeating: marker + "\n", count: 1000).write(toFile: "\(source)/notes.txt", atomically: false, encoding: .utf8)
        try "x".write(toFile: "\(source)/\(marker)-name.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", source])
        let needles = [marker, "notes.txt", "secret"].map { Data($0.utf8) }
        let files = FileManager.default.enumerator(atPath: "\(work)/repo")?.compactMap { $0 as? String } ?? []
        XCTAssertGreaterThan(files.count, 3)
        for file in files {
            guard let data = FileManager.default.contents(atPath: "\(work)/repo/\(file)") else { continue }
            for needle in needles { XCTAssertNil(data.range(of: needle), "\(file) contains plaintext") }
        }
    }

    /// `ls` lists the snapshot's paths, including non-UTF-8 names in escaped form.
    func testListShowsEntries() throws {
        let source = "\(work)/src"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        try "a".write(toFile: "\(source)/a.txt", atomically: false, encoding: .utf8)
        try TreeFixture.write(Array("\(source)/".utf8) + [0x62, 0xff], Array("b".utf8))
        try snap.expect(0, ["backup", source])
        let out = try snap.expect(0, ["ls", "latest", source]).stdout
        XCTAssertTrue(out.contains("\(source)/a.txt"))
        XCTAssertTrue(out.contains("\(source)/b\\xff"))
        XCTAssertFalse(out.contains("\(work)/repo"))
    }

    private func dataPacks() throws -> Set<String> {
        let names = FileManager.default.enumerator(atPath: "\(work)/repo/data")?.compactMap { $0 as? String } ?? []
        return Set(names.filter { $0.count == 67 }.map { String($0.suffix(64)) })
    }
}
