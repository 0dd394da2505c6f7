import Foundation
import SnapTestSupport
import XCTest

/// `snap recover` (restic's command): the folders of a snapshot forgotten by mistake come
/// back in a new snapshot under /recover, also when a prune has already condemned their
/// packs and only a running backup keeps it from deleting them.
final class RecoverTests: XCTestCase {
    private var work = ""
    private var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("recover")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init", "-q"])
        try FileManager.default.createDirectory(atPath: "\(work)/src/a", withIntermediateDirectories: true)
        try Data(seededBytes(count: 300_000, seed: 5)).write(to: URL(fileURLWithPath: "\(work)/src/a/lost.bin"))
        try "kept\n".write(toFile: "\(work)/src/top.txt", atomically: false, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func snapshots() throws -> [[String: Any]] {
        let text = try snap.expect(0, ["snapshots", "--json"]).stdout
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    /// Two backups, the file `a/lost.bin` only in the first, then the first forgotten.
    private func forgetTheFirstOfTwoBackups() throws {
        try snap.expect(0, ["backup", "\(work)/src", "-q"])
        try FileManager.default.moveItem(atPath: "\(work)/src/a/lost.bin", toPath: "\(work)/lost.orig")
        try Data(seededBytes(count: 200_000, seed: 6)).write(to: URL(fileURLWithPath: "\(work)/src/a/new.bin"))
        try snap.expect(0, ["backup", "\(work)/src", "-q"])
        let first = try XCTUnwrap(try snapshots().first?["id"] as? String)
        try snap.expect(0, ["forget", first, "-q"])
    }

    /// The restored `lost.bin` of the recovered snapshot `id`, compared with the original.
    /// With a backup running, its folders not yet in a snapshot may be recovered too, so the
    /// lost tree is looked for among the folders.
    private func assertRestoresTheLostFile(_ id: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let target = "\(work)/out-\(UUID().uuidString.prefix(6))"
        try snap.expect(0, ["restore", "\(id):/recover", "--target", target, "-q"])
        let roots = try FileManager.default.contentsOfDirectory(atPath: target)
        let restored = roots.map { "\(target)/\($0)\(work)/src/a/lost.bin" }.filter { FileManager.default.fileExists(atPath: $0) }
        XCTAssertEqual(restored.count, 1, "one lost tree holds the file: \(roots)", file: file, line: line)
        XCTAssertEqual(FileManager.default.contents(atPath: restored.first ?? ""),
                       FileManager.default.contents(atPath: "\(work)/lost.orig"), file: file, line: line)
    }

    func testRecoversAForgottenSnapshot() throws {
        XCTAssertTrue(try snap.expect(0, ["recover"]).stdout.contains("no lost folders"), "an empty repository has none")
        try forgetTheFirstOfTwoBackups()

        let filesBefore = try FileManager.default.subpathsOfDirectory(atPath: "\(work)/repo").sorted()
        let dry = try snap.expect(0, ["recover", "--dry-run"])
        XCTAssertTrue(dry.stdout.contains("in 1 lost tree:") && dry.stdout.contains("(dry run)"), dry.stdout)
        XCTAssertEqual(try FileManager.default.subpathsOfDirectory(atPath: "\(work)/repo").sorted(), filesBefore, "a dry run writes nothing")

        let saved = try snap.expect(0, ["recover"])
        XCTAssertTrue(saved.stdout.contains("saved snapshot"), saved.stdout)
        let recovered = try XCTUnwrap(try snapshots().first { ($0["paths"] as? [String]) == ["/recover"] })
        let id = try XCTUnwrap(recovered["id"] as? String)
        XCTAssertTrue(saved.stdout.contains("snap restore \(id.prefix(8)):/recover/NAME"), saved.stdout)
        try assertRestoresTheLostFile(id)

        // Everything is in a snapshot now: a second recover saves nothing.
        let again = try snap.expect(0, ["recover", "--json"])
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["roots"] as? [String], [])
        XCTAssertTrue(report["snapshot_id"] is NSNull || report["snapshot_id"] == nil, again.stdout)
        XCTAssertEqual(try snapshots().count, 2)
        try snap.expect(0, ["check", "--read-data", "-q"])
    }

    // A prune that ran after the forget condemned the lost packs but could not delete them
    // while a backup ran (its uploads held up 8 s here). Their mark does not wait for
    // recover, so a prune after the backup may delete them while recover still runs:
    // recover copies what it needs out of them first. The prune after the backup then
    // deletes them, and the new snapshot is whole.
    func testCopiesBlobsOutOfCondemnedPacks() throws {
        try forgetTheFirstOfTwoBackups()
        try FileManager.default.createDirectory(atPath: "\(work)/other", withIntermediateDirectories: false)
        try Data(seededBytes(count: 100_000, seed: 7)).write(to: URL(fileURLWithPath: "\(work)/other/x"))
        let slowUploads = ["SNAP_FAULT_INJECTION": "delay=8,methods=write,kind=data"]
        let running = try RunningSnap(["backup", "\(work)/other", "-q"], environment: snap.environment.merging(slowUploads) { $1 })
        let locks = { ((try? FileManager.default.contentsOfDirectory(atPath: "\(self.work)/repo/locks")) ?? []).count }
        XCTAssertTrue(running.wait(20) { locks() > 0 }, "the backup took its lock")

        let prune = try snap.expect(0, ["prune"])
        XCTAssertTrue(prune.stdout.contains("deleted 0 packs"), prune.stdout)
        let recovered = try snap.expect(0, ["recover"])
        XCTAssertTrue(recovered.stdout.contains("out of packs a prune had condemned"), recovered.stdout)
        XCTAssertTrue(recovered.stdout.contains("note: 1 backup running"), recovered.stdout)
        running.finish()
        XCTAssertEqual(running.process.terminationStatus, 0, running.stderr)

        let later = try snap.expect(0, ["prune"])
        XCTAssertFalse(later.stdout.contains("deleted 0 packs"), "the condemned packs go now: \(later.stdout)")
        try snap.expect(0, ["check", "--read-data", "-q"])
        let id = try XCTUnwrap(try snapshots().first { ($0["paths"] as? [String]) == ["/recover"] }?["id"] as? String)
        try assertRestoresTheLostFile(id)
    }
}
