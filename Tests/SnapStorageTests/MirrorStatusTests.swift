import XCTest
import SnapStorage
import SnapTestSupport

final class MirrorStatusTests: XCTestCase {
    // Status counts files and bytes per kind, and shows what each replica lacks and has alone.
    func testStatusShowsLagExtrasAndTotals() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let repo = SmallRepository(seed: 1)
        try repo.write(to: a)
        for (file, bytes) in repo.of(.data) + repo.of(.keys) { try b.write(file, data: bytes) }
        let lock = FileName(.locks, checksumName([1]))
        try a.write(lock, data: [1, 2])
        let status = MirrorStatus.check(replicas([a, b]), verifyName: verifyChecksum)

        XCTAssertFalse(status.inSync)
        XCTAssertEqual(status.replicas[0].kinds["data"], MirrorStatus.Totals(files: 3, bytes: 1000 + 1001 + 1002))
        XCTAssertEqual(status.replicas[0].kinds["locks"], MirrorStatus.Totals(files: 1, bytes: 2))
        XCTAssertEqual(status.replicas[1].kinds["snapshots"], MirrorStatus.Totals(files: 0, bytes: 0))
        XCTAssertEqual(status.replicas[0].lacking, [])
        XCTAssertEqual(status.replicas[1].lacking,
                       ["config", repo.of(.index)[0].file.description, repo.of(.snapshots)[0].file.description])
        XCTAssertEqual(status.replicas[0].extra, status.replicas[1].lacking, "locks are never compared")
        XCTAssertTrue(status.replicas[0].isComplete)
        XCTAssertFalse(status.replicas[1].isComplete)
    }

    // A prune that replica c missed (its old index file, without the one that replaced it)
    // makes status and a plain sync warn that copying back brings back unreadable snapshots,
    // and point to --delete-extra (campaign 12 F1: the plain sync status suggested did it
    // silently, and every replica then failed check). A replica that only missed a backup
    // (it lacks, holds nothing extra) gets the plain advice, and a sync no warning.
    func testAPruneAReplicaMissedIsNamedBeforeAPlainSync() throws {
        let a = MemoryBackend(), b = MemoryBackend(), c = MemoryBackend()
        let old = namedFile(.index, seed: 10), new = namedFile(.index, seed: 11)
        try SmallRepository(seed: 3).write(to: a, b, c)
        for backend in [a, b] { try backend.write(new.file, data: new.bytes) }
        try c.write(old.file, data: old.bytes)
        let status = MirrorStatus.check(replicas([a, b, c]), verifyName: verifyChecksum)
        let warning = try XCTUnwrap(status.syncWarning)
        XCTAssertTrue(warning.contains("of a, b, c") && warning.contains("--delete-extra") && warning.contains("repair index"), warning)
        let warnings = Warnings()
        _ = try MirrorSync.run(replicas([a, b, c]), options: MirrorSync.Options(dryRun: true), verifyName: verifyChecksum,
                               report: warnings.report)
        XCTAssertTrue(warnings.contain("--delete-extra"), "\(warnings.all)")

        try c.delete(old.file)
        XCTAssertNil(MirrorStatus.check(replicas([a, b, c]), verifyName: verifyChecksum).syncWarning, "c only missed a backup")
        let quiet = Warnings()
        _ = try MirrorSync.run(replicas([a, b, c]), options: MirrorSync.Options(dryRun: true), verifyName: verifyChecksum,
                               report: quiet.report)
        XCTAssertEqual(quiet.all, [])
    }

    // An unreachable replica is shown as such, and the others are compared without it.
    func testUnreachableReplica() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let down = FaultInjectingBackend(MemoryBackend(), rules: [FaultRule(.list, .transient, probability: 1)])
        try SmallRepository(seed: 2).write(to: a, b)
        let status = MirrorStatus.check(replicas([a, down, b]), verifyName: verifyChecksum)
        XCTAssertEqual(status.replicas.map(\.reachable), [true, false, true])
        XCTAssertNotNil(status.replicas[1].error)
        XCTAssertEqual(status.replicas[0].lacking + status.replicas[2].extra, [])
        XCTAssertFalse(status.inSync)
    }

    // The report encodes to JSON with the documented keys.
    func testStatusEncodes() throws {
        let a = MemoryBackend()
        try a.write(.config, data: [1])
        let data = try JSONEncoder().encode(MirrorStatus.check(replicas([a]), verifyName: verifyChecksum))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let replica = try XCTUnwrap((object["replicas"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(replica.keys), ["name", "reachable", "kinds", "lacking", "extra", "damaged"])
        XCTAssertEqual(object["verified"] as? Bool, false)
    }
}
