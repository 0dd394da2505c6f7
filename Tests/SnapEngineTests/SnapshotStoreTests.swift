import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage

final class SnapshotStoreTests: XCTestCase {
    private var repository: Repository!

    override func setUpWithError() throws {
        repository = try makeEngineRepository(on: MemoryBackend())
    }

    private func snapshot(_ time: String, host: String = "alpha", paths: [String] = ["/home"], tags: [String] = []) -> Snapshot {
        Snapshot(time: time, hostname: host, username: "tester", uid: 1000, gid: 1000, paths: paths, tags: tags, excludes: [],
                 parent: nil, tree: TreeSamples.id(1), summary: nil, programVersion: snapVersion)
    }

    @discardableResult
    private func save(_ time: String, host: String = "alpha", paths: [String] = ["/home"], tags: [String] = []) throws -> SnapshotID {
        try SnapshotStore.save(snapshot(time, host: host, paths: paths, tags: tags), in: repository)
    }

    private func assertNotFound(_ body: @autoclosure () throws -> SnapshotRecord, _ message: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), message, file: file, line: line) { error in
            guard case EngineError.snapshotNotFound = error else {
                return XCTFail("\(message): expected snapshotNotFound, got \(error)", file: file, line: line)
            }
        }
    }

    // A saved snapshot loads back equal, under the ID save returned.
    func testSaveAndLoad() throws {
        var original = snapshot("2024-01-01T10:00:00.5+02:00", tags: ["x", "y"])
        original.summary = Snapshot.Summary()
        original.summary?.filesNew = 3
        let id = try SnapshotStore.save(original, in: repository)
        XCTAssertEqual(try SnapshotStore.load(id, from: repository), original)
        XCTAssertEqual(try repository.backend.list(.snapshots).map(\.file.name), [id.hex])
    }

    // all() is sorted by time instant, not by the text (offsets differ), whatever the save order.
    func testAllSortsByTime() throws {
        let times = ["2024-01-01T12:00:00+02:00",  // 10:00Z
                     "2024-01-01T11:00:00Z",
                     "2024-01-01T05:30:00-05:00",  // 10:30Z
                     "2023-12-31T23:59:59.999999999Z",
                     "2024-01-01T10:00:00.000000001Z"]
        for time in times { try save(time) }
        XCTAssertEqual(try SnapshotStore.all(in: repository).map(\.snapshot.time),
                       [times[3], times[0], times[4], times[2], times[1]])
    }

    // "latest" picks the newest snapshot that passes the host, path and tag filters, and throws when none does.
    func testLatestWithFilters() throws {
        let a1 = try save("2024-01-01T10:00:00Z", host: "alpha", tags: ["daily"])
        let b1 = try save("2024-01-02T10:00:00Z", host: "beta", paths: ["/srv"])
        let a2 = try save("2024-01-03T10:00:00Z", host: "alpha", paths: ["/home", "/etc"])
        let b2 = try save("2024-01-01T12:00:00Z", host: "beta", tags: ["daily"])
        XCTAssertEqual(try SnapshotStore.find("latest", in: repository).id, a2)
        XCTAssertEqual(try SnapshotStore.find("latest", filter: SnapshotFilter(hosts: ["beta"]), in: repository).id, b1)
        // restic's rule: the newest snapshot whose paths include /home (a2 has /home and /etc).
        XCTAssertEqual(try SnapshotStore.find("latest", filter: SnapshotFilter(paths: ["/home"]), in: repository).id, a2)
        XCTAssertEqual(try SnapshotStore.find("latest", filter: SnapshotFilter(hosts: ["beta"], paths: ["/home"]), in: repository).id, b2)
        XCTAssertEqual(try SnapshotStore.find("latest", filter: SnapshotFilter(paths: ["/etc", "/home"]), in: repository).id, a2)
        XCTAssertEqual(try SnapshotStore.find("latest", filter: SnapshotFilter(tags: ["daily"]), in: repository).id, b2)
        XCTAssertEqual(try SnapshotStore.find("latest", filter: SnapshotFilter(hosts: ["alpha"], tags: ["daily"]), in: repository).id, a1)
        assertNotFound(try SnapshotStore.find("latest", filter: SnapshotFilter(hosts: ["gamma"]), in: repository), "unknown host")
        assertNotFound(try SnapshotStore.find("latest", filter: SnapshotFilter(hosts: ["beta"], tags: ["weekly"]), in: repository), "no tag")
    }

    // "latest" in an empty repository throws snapshotNotFound.
    func testLatestOfNothing() {
        assertNotFound(try SnapshotStore.find("latest", in: repository), "empty repository")
    }

    // With at:, the newest snapshot at or before the time is chosen; the boundary is inclusive; earlier than all throws.
    func testAtPicksNewestAtOrBefore() throws {
        let ten = try save("2024-01-01T10:00:00Z")
        let eleven = try save("2024-01-01T13:00:00+02:00")  // 11:00Z
        let twelve = try save("2024-01-01T12:00:00.5Z", host: "beta")
        func find(_ at: String, _ filter: SnapshotFilter = SnapshotFilter()) throws -> SnapshotID {
            try SnapshotStore.find("latest", at: XCTUnwrap(RFC3339.parse(at)), filter: filter, in: repository).id
        }
        XCTAssertEqual(try find("2024-01-01T10:00:00Z"), ten)
        XCTAssertEqual(try find("2024-01-01T10:59:59.999999999Z"), ten)
        XCTAssertEqual(try find("2024-01-01T11:00:00Z"), eleven, "same instant written with another offset")
        XCTAssertEqual(try find("2024-01-01T12:00:00.499999999Z"), eleven)
        XCTAssertEqual(try find("2024-01-01T12:00:00.5Z"), twelve)
        XCTAssertEqual(try find("2030-01-01T00:00:00Z"), twelve)
        XCTAssertEqual(try find("2030-01-01T00:00:00Z", SnapshotFilter(hosts: ["alpha"])), eleven)
        assertNotFound(try SnapshotStore.find("latest", at: Timestamp(seconds: 1_704_103_199, nanoseconds: 999_999_999), in: repository),
                       "one nanosecond before the first")
    }

    // A full ID, a unique prefix (any case) finds its snapshot; a prefix matching several, none, or not hex throws.
    func testIDPrefixes() throws {
        var ids: [SnapshotID] = []
        for i in 0..<17 { ids.append(try save("2024-01-01T10:00:\(String(i).leftPadded(2))Z")) }
        let hexes = ids.map(\.hex)
        // Seventeen IDs over sixteen first digits: some digit starts at least two of them.
        let shared = try XCTUnwrap(Dictionary(grouping: hexes, by: { $0.prefix(1) }).first { $0.value.count > 1 }?.key)
        assertNotFound(try SnapshotStore.find(String(shared), in: repository), "ambiguous prefix \(shared)")

        for (id, hex) in zip(ids, hexes) {
            let others = hexes.filter { $0 != hex }
            let length = try XCTUnwrap((1...64).first { n in !others.contains { $0.hasPrefix(hex.prefix(n)) } })
            let prefix = String(hex.prefix(length))
            XCTAssertEqual(try SnapshotStore.find(prefix, in: repository).id, id, "shortest unique prefix \(prefix)")
            XCTAssertEqual(try SnapshotStore.find(prefix.uppercased(), in: repository).id, id, "upper case \(prefix)")
            XCTAssertEqual(try SnapshotStore.find(hex, in: repository).id, id, "full ID")
            if length > 1 {
                assertNotFound(try SnapshotStore.find(String(hex.prefix(length - 1)), in: repository), "one digit short of \(prefix)")
            }
        }
        let digits = Array("0123456789abcdef")
        let unused = try XCTUnwrap(digits.flatMap { a in digits.map { String([a, $0]) } }.first { p in !hexes.contains { $0.hasPrefix(p) } })
        assertNotFound(try SnapshotStore.find(unused, in: repository), "prefix of no snapshot")
        for bad in ["", "xyz", "latest ", "Latest", "12 34", "-1"] {
            assertNotFound(try SnapshotStore.find(bad, in: repository), "'\(bad)'")
        }
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
