import Foundation
import XCTest

/// End-to-end: `snap check` passes a healthy repository, and after a pack of a real backup
/// is corrupted, `snap check --read-data` exits 1 naming the file; `snap repair snapshots`
/// then makes every intact file restorable and marks the damaged one.
final class CheckRepairTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("check")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "check me"])
        try snap.expect(0, ["init"])
        try FileManager.default.createDirectory(atPath: "\(work)/src/sub", withIntermediateDirectories: true)
        for i in 0..<4 {
            try String(repeating: "file \(i) content\n", count: 4000).write(toFile: "\(work)/src/f\(i).txt", atomically: false, encoding: .utf8)
        }
        var victim = Data()
        var state: UInt64 = 0x1234_5678
        for _ in 0..<300_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            victim.append(UInt8(truncatingIfNeeded: state >> 33))
        }
        try victim.write(to: URL(fileURLWithPath: "\(work)/src/sub/victim.bin"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    func testCheckHealthyThenCorruptedPackNamesTheFile() throws {
        try snap.expect(0, ["backup", "\(work)/src"])
        let healthy = try snap.expect(0, ["check"])
        XCTAssertTrue(healthy.stdout.contains("no errors were found"), healthy.stdout)
        XCTAssertFalse(healthy.stdout.contains("\u{1b}["), "no progress line when stdout is not a terminal")
        try snap.expect(0, ["check", "--read-data"])
        for slice in ["1/2", "2/2", "50%"] { try snap.expect(0, ["check", "--read-data-subset", slice]) }
        XCTAssertEqual(try snap.run(["check", "--read-data-subset", "3/2"]).status, 64)

        // Flip a byte in the middle of victim.bin's first chunk.
        let nodes = try lsNodes(try snap.expect(0, ["ls", "latest", "\(work)/src/sub/victim.bin", "--json"]).stdout)
        let blob = try XCTUnwrap((nodes.first?["content"] as? [String])?.first)
        try corrupt(blob: blob)

        // The structure is intact (same sizes, trees unharmed): only reading the data finds it.
        try snap.expect(0, ["check"])
        let result = try snap.expect(1, ["check", "--read-data"])
        XCTAssertTrue(result.stdout.contains("\(work)/src/sub/victim.bin"), result.stdout)
        XCTAssertTrue(result.stdout.contains(blob), result.stdout)
        XCTAssertFalse(result.stdout.contains("f1.txt"), "only the damaged file is named: \(result.stdout)")

        let json = try snap.expect(1, ["check", "--read-data", "--json"])
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["ok"] as? Bool, false)
        let affected = try XCTUnwrap(report["affected"] as? [[String: Any]])
        XCTAssertEqual(affected.flatMap { $0["paths"] as? [String] ?? [] }, ["\(work)/src/sub/victim.bin"])
        // A failing command's last line under --json is an `exit_error` (docs/json.md).
        let last = try XCTUnwrap(json.stderr.split(separator: "\n").last, json.stderr)
        let exit = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        XCTAssertEqual(exit["message_type"] as? String, "exit_error")
        XCTAssertEqual(exit["code"] as? Int, 1)
        let errors = try XCTUnwrap(report["errors"] as? Int)
        XCTAssertTrue((exit["message"] as? String)?.hasPrefix("the repository has \(errors) error") == true, "\(exit)")

        // Repair: the replacement restores every intact file; the damaged one is marked.
        let repair = try snap.expect(0, ["repair", "snapshots", "--read-data", "--forget", "--json"])
        let repaired = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(repair.stdout.utf8)) as? [String: Any])?["repaired"] as? [[String: Any]])
        let replacement = try XCTUnwrap(repaired.first?["replacement"] as? String)
        try snap.expect(0, ["restore", replacement, "--target", "\(work)/out"])
        for i in 0..<4 {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(work)/out\(work)/src/f\(i).txt")),
                           try Data(contentsOf: URL(fileURLWithPath: "\(work)/src/f\(i).txt")))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out\(work)/src/sub/victim.bin"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(work)/out\(work)/src/sub/victim.bin.damaged"))
        let again = try snap.expect(0, ["repair", "snapshots", "--read-data"])
        XCTAssertTrue(again.stdout.contains("0 snapshots repaired"), again.stdout)
    }

    /// The hint after a damaged data blob names commands that really heal the repository:
    /// `repair snapshots --read-data --forget`, then `repair packs` of the pack that holds it
    /// (its other blobs are still used); after them `check --read-data` passes.
    func testCheckHintSequenceHealsADamagedDataBlob() throws {
        try snap.expect(0, ["backup", "\(work)/src"])
        let nodes = try lsNodes(try snap.expect(0, ["ls", "latest", "\(work)/src/sub/victim.bin", "--json"]).stdout)
        let pack = try corrupt(blob: try XCTUnwrap((nodes.first?["content"] as? [String])?.first))

        let check = try snap.expect(1, ["check", "--read-data"])
        let hint = "run 'snap repair snapshots --read-data --forget', then 'snap repair packs \(pack.prefix(8))'"
        XCTAssertTrue(check.stdout.contains(hint), check.stdout)
        try snap.expect(0, ["repair", "snapshots", "--read-data", "--forget"])
        let repaired = try snap.expect(0, ["repair", "packs", String(pack.prefix(8))])
        XCTAssertTrue(repaired.stdout.contains("rewrote 1 pack"), repaired.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/repo/data/\(pack.prefix(2))/\(pack)"))
        let healed = try snap.expect(0, ["check", "--read-data"])
        XCTAssertTrue(healed.stdout.contains("no errors were found"), healed.stdout)
    }

    /// A pack deleted from storage: the hint names `repair snapshots --forget`, then
    /// `repair index` (prune leaves the index's entries for a pack that is gone), and
    /// following it heals the repository; half-way, check still says what is left to run.
    func testCheckHintSequenceHealsADeletedPack() throws {
        try snap.expect(0, ["backup", "\(work)/src"])
        let nodes = try lsNodes(try snap.expect(0, ["ls", "latest", "\(work)/src/sub/victim.bin", "--json"]).stdout)
        let pack = try packHolding(blob: try XCTUnwrap((nodes.first?["content"] as? [String])?.first))
        try FileManager.default.removeItem(atPath: "\(work)/repo/data/\(pack.prefix(2))/\(pack)")

        let check = try snap.expect(1, ["check"])
        XCTAssertTrue(check.stdout.contains("run 'snap repair snapshots --forget', then 'snap repair index'"), check.stdout)
        try snap.expect(0, ["repair", "snapshots", "--forget"])
        let halfway = try snap.expect(1, ["check"])
        XCTAssertTrue(halfway.stdout.contains("hint: 'snap repair index' drops the index's entries"), halfway.stdout)
        try snap.expect(0, ["repair", "index"])
        XCTAssertTrue(try snap.expect(0, ["check", "--read-data"]).stdout.contains("no errors were found"))
    }

    /// A pack with bytes appended loses no blob, but its header no longer reads: check names
    /// it with the hint to rewrite it, and `repair packs` does, after which check passes.
    func testPackWithBytesAppendedIsRewritten() throws {
        try snap.expect(0, ["backup", "\(work)/src"])
        let nodes = try lsNodes(try snap.expect(0, ["ls", "latest", "\(work)/src/sub/victim.bin", "--json"]).stdout)
        let pack = try packHolding(blob: try XCTUnwrap((nodes.first?["content"] as? [String])?.first))
        let path = "\(work)/repo/data/\(pack.prefix(2))/\(pack)"
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0x55, count: 64))
        handle.closeFile()

        let check = try snap.expect(1, ["check", "--read-data"])
        XCTAssertTrue(check.stdout.contains("hint: 'snap repair packs \(pack.prefix(8))' copies what still reads"), check.stdout)
        let repaired = try snap.expect(0, ["repair", "packs", String(pack.prefix(12))])
        XCTAssertTrue(repaired.stdout.contains("rewrote 1 pack"), repaired.stdout)
        XCTAssertTrue(try snap.expect(0, ["check", "--read-data"]).stdout.contains("no errors were found"))
        let unknown = try snap.run(["repair", "packs", "ffffffffff"])
        XCTAssertEqual(unknown.status, 1, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("there is no pack ffffffffff in data/"), unknown.stderr)
    }

    func testRepairIndexAfterLosingEveryIndexFile() throws {
        try snap.expect(0, ["backup", "\(work)/src"])
        for name in try FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/index") {
            try FileManager.default.removeItem(atPath: "\(work)/repo/index/\(name)")
        }
        let broken = try snap.expect(1, ["check"])
        XCTAssertTrue(broken.stdout.contains("snap repair index"), broken.stdout)
        let dry = try snap.expect(0, ["repair", "index", "--dry-run"])
        XCTAssertTrue(dry.stdout.contains("would write"), dry.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(work)/repo/index"), [])
        try snap.expect(0, ["repair", "index"])
        try snap.expect(0, ["check", "--read-data"])
        let again = try snap.expect(0, ["repair", "index"])
        XCTAssertTrue(again.stdout.contains("nothing to do"), again.stdout)
    }

    /// Flips one byte in the middle of `blob` in whichever pack holds it.
    /// Returns the pack's ID.
    @discardableResult
    private func corrupt(blob: String) throws -> String {
        let (pack, entry) = try packEntry(of: blob)
        let path = "\(work)/repo/data/\(pack.prefix(2))/\(pack)"
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[entry.offset + entry.length / 2] ^= 0x01
        try data.write(to: URL(fileURLWithPath: path))
        return pack
    }

    /// The ID of the pack that holds `blob`.
    private func packHolding(blob: String) throws -> String { try packEntry(of: blob).pack }

    /// The pack that holds `blob` (by the packs' headers, as `cat pack` shows them), and where in it.
    private func packEntry(of blob: String) throws -> (pack: String, (offset: Int, length: Int)) {
        let packs = FileManager.default.enumerator(atPath: "\(work)/repo/data")?.compactMap { $0 as? String }.filter { $0.count == 67 } ?? []
        for pack in packs.map({ String($0.suffix(64)) }) {
            let header = try snap.expect(0, ["cat", "pack", pack]).stdout
            guard let json = try JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any],
                  let blobs = json["blobs"] as? [[String: Any]],
                  let entry = blobs.first(where: { $0["id"] as? String == blob }),
                  let offset = entry["offset"] as? Int, let length = entry["length"] as? Int else { continue }
            return (pack, (offset, length))
        }
        throw CLITestError("no pack holds blob \(blob)")
    }
}

private struct CLITestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
