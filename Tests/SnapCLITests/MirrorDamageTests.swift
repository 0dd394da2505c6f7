import Foundation
import SnapTestSupport
import XCTest

/// `check --read-data` and `repair packs` through a mirror of two local replicas whose copies
/// of one pack are damaged: a mirror's other copy counts before anything is called lost.
/// A damaged `config` on one replica does not stop the mirror, and a replica that holds no
/// repository at all (a disk not mounted) is not written to.
final class MirrorDamageTests: XCTestCase {
    private var work = ""
    private let snap = SnapProcess(environment: ["SNAP_PASSWORD": "mirror pw"])
    private var replicas: [String] { ["-r", "\(work)/A", "-r", "\(work)/B"] }

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("mirror-damage")
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: true)
        for file in 0..<6 {
            try Data(seededBytes(count: 700_000, seed: UInt64(7100 + file))).write(to: URL(fileURLWithPath: "\(work)/src/f\(file).bin"))
        }
        try snap.expect(0, ["init"] + replicas)
        try snap.expect(0, ["backup", "\(work)/src", "-q"] + replicas)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// The largest pack (the file data), as its path below a replica.
    private func largestPack() throws -> String {
        let data = "\(work)/A/data"
        let names = (FileManager.default.enumerator(atPath: data)?.compactMap { $0 as? String } ?? []).filter { $0.count == 67 }
        let sized = try names.map { ($0, try FileManager.default.attributesOfItem(atPath: "\(data)/\($0)")[.size] as? Int ?? 0) }
        return "data/" + (try XCTUnwrap(sized.max { $0.1 < $1.1 }).0)
    }

    /// Flips one bit of `replica`'s copy of `pack` at `fraction` of its length.
    private func flip(_ pack: String, on replica: String, at fraction: Double) throws {
        let path = "\(work)/\(replica)/\(pack)"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[Int(Double(bytes.count) * fraction)] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    private func restoredMatches(_ through: [String]? = nil) throws {
        let target = "\(work)/out-\(UUID().uuidString.prefix(6))"
        try snap.expect(0, ["restore", "latest", "--target", target, "-q", "--no-cache"] + (through ?? replicas))
        var comparison = TreeComparison()
        comparison.compare(Array("\(work)/src".utf8), Array("\(target)\(work)/src".utf8), compareOwners: false)
        XCTAssertEqual(comparison.differences, [])
    }

    // One replica's copy is damaged: the check reads the other copy, which replaces it, and
    // finds nothing wrong (it says, in a warning, what happened).
    func testAPackDamagedOnOneReplicaIsNoError() throws {
        let pack = try largestPack()
        try flip(pack, on: "A", at: 0.25)
        let check = try snap.expect(0, ["check", "--read-data", "--no-cache"] + replicas)
        XCTAssertTrue(check.stdout.contains("no errors were found"), check.stdout)
        XCTAssertTrue((check.stdout + check.stderr).contains("read again, it is intact"), check.stdout + check.stderr)
        try snap.expect(0, ["check", "--read-data", "--no-cache", "-r", "\(work)/A"])
    }

    // Both copies are damaged, each at another blob: every blob is intact on one replica. No
    // blob is called lost; `repair packs` rewrites them all into a new pack, and nothing is lost.
    func testAPackDamagedOnEveryReplicaAtDifferentBlobsLosesNothing() throws {
        let pack = try largestPack()
        try flip(pack, on: "A", at: 0.25)
        try flip(pack, on: "B", at: 0.75)
        try restoredMatches()
        let check = try snap.run(["check", "--read-data", "--no-cache"] + replicas)
        XCTAssertEqual(check.status, 1, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("every blob read intact on its own"), check.stdout)
        XCTAssertFalse(check.stdout.contains("--forget"), "no blob is lost: \(check.stdout)")
        let id = String(pack.suffix(64).prefix(8))
        let repair = try snap.expect(0, ["repair", "packs", id, "--no-cache"] + replicas)
        XCTAssertFalse((repair.stdout + repair.stderr).contains("not copied"), repair.stdout + repair.stderr)
        try snap.expect(0, ["check", "--read-data", "--no-cache"] + replicas)
        try restoredMatches()
    }

    // A replica folder that is empty (the mount point of a disk that is not mounted) or gone
    // gets no packs: the backup says no repository is there and succeeds on the others.
    func testAReplicaWithoutARepositoryIsNotFilledByABackup() throws {
        let three = replicas + ["-r", "\(work)/C"]
        try snap.expect(0, ["mirror", "sync", "-q"] + three)
        try FileManager.default.moveItem(atPath: "\(work)/B", toPath: "\(work)/B.away")
        try FileManager.default.createDirectory(atPath: "\(work)/B", withIntermediateDirectories: false)
        try Data(seededBytes(count: 300_000, seed: 7200)).write(to: URL(fileURLWithPath: "\(work)/src/new.bin"))
        let backup = try snap.expect(0, ["backup", "\(work)/src"] + three)
        XCTAssertTrue(backup.stderr.contains("holds no key files, so no repository is there"), backup.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(work)/B"), [], "nothing written to the empty folder")
        try FileManager.default.removeItem(atPath: "\(work)/B")
        try snap.expect(0, ["backup", "\(work)/src", "-q"] + three)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/B"), "a missing replica folder is not made")
    }

    // One replica's config is damaged: the replicas share key files, so they are one
    // repository, and the copy that opens with the key is used. With three replicas, two
    // agree and sync replaces the third; with two, sync cannot tell which and says so.
    func testADamagedConfigOnOneReplicaDoesNotStopTheMirror() throws {
        let three = replicas + ["-r", "\(work)/C"]
        try snap.expect(0, ["mirror", "sync", "-q"] + three)
        let good = try Data(contentsOf: URL(fileURLWithPath: "\(work)/A/config"))
        var damaged = [UInt8](good)
        damaged[damaged.count / 2] ^= 0x01
        try Data(damaged).write(to: URL(fileURLWithPath: "\(work)/C/config"))
        try restoredMatches(three)
        let listed = try snap.expect(0, ["snapshots", "--no-cache"] + ["-r", "\(work)/C"] + replicas)
        XCTAssertTrue(listed.stderr.contains("share key files"), listed.stderr)
        try snap.expect(0, ["mirror", "sync", "-q"] + three)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(work)/C/config")), good, "sync put the copy most hold back")

        try Data().write(to: URL(fileURLWithPath: "\(work)/B/config"))
        try restoredMatches(["-r", "\(work)/B", "-r", "\(work)/A"])
        let sync = try snap.run(["mirror", "sync"] + replicas)
        XCTAssertEqual(sync.status, 1, sync.stderr)
        XCTAssertTrue(sync.stderr.contains("no copy is held by most"), sync.stderr)
        let other = try makeTemporaryFolder("mirror-other")
        defer { try? FileManager.default.removeItem(atPath: other) }
        try snap.expect(0, ["init", "-r", "\(other)/D"])
        let mixed = try snap.run(["snapshots", "-r", "\(work)/A", "-r", "\(other)/D"])
        XCTAssertTrue(mixed.stderr.contains("hold different repositories"), "two repositories are still refused: \(mixed.stderr)")
    }
}
