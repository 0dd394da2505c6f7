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
