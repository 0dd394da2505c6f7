import XCTest
import SnapStorage
import SnapTestSupport

final class MirrorReadTests: XCTestCase {
    // A mirror of memory replicas meets every guarantee of the Backend protocol. (The suite's
    // files are not named by their content, so no name check is injected.)
    func testConformance() throws {
        try BackendConformance.run(makeBackend: {
            MirrorBackend(replicas: replicas([MemoryBackend(), MemoryBackend(), MemoryBackend()]))
        }, largeFileSize: 4 << 20)
    }

    // A read that fails on the first replica is served by the next; the failing replica is
    // reported once and read last from then on.
    func testReadFailsOverOnError() throws {
        let aStore = MemoryBackend(), b = MemoryBackend()
        let a = FaultInjectingBackend(aStore, rules: [FaultRule(.read, .permanent, probability: 1)])
        let pack = namedFile(.data, seed: 1)
        for store in [aStore, b] { try store.write(pack.file, data: pack.bytes) }
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum, report: warnings.report)
        XCTAssertEqual(try mirror.read(pack.file), pack.bytes)
        XCTAssertTrue(warnings.contain("replica a failed to read \(pack.file)"), "\(warnings.all)")
        XCTAssertEqual(try mirror.read(pack.file, range: 5..<10), Array(pack.bytes[5..<10]))
        XCTAssertEqual(a.calls(.read), 1, "a is read after b once it failed")
        XCTAssertEqual(warnings.all.count, 1)
        XCTAssertEqual(mirror.replicaStates()[0].failedReads, 1)
    }

    // A replica that lacks a file is passed over for read and stat, with a hint to sync.
    func testReadAndStatFailOverOnNotFound() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let index = namedFile(.index, seed: 2)
        try b.write(index.file, data: index.bytes)
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum, report: warnings.report)
        XCTAssertEqual(try mirror.read(index.file), index.bytes)
        XCTAssertEqual(try mirror.stat(index.file), FileInfo(file: index.file, size: index.bytes.count))
        XCTAssertTrue(try mirror.exists(index.file))
        XCTAssertTrue(warnings.contain("replica a lacks \(index.file)"), "\(warnings.all)")
    }

    // A replica whose listing fails with a transient error (after its retries: it is down)
    // is not listed again in this run, so it does not cost every later listing its retries.
    func testAReplicaThatCannotBeReachedIsNotListedAgain() throws {
        let a = MemoryBackend()
        let dead = FaultInjectingBackend(MemoryBackend(), rules: BackendMethod.allCases.map { FaultRule($0, .transient, probability: 1) })
        let mirror = MirrorBackend(replicas: replicas([a, dead]), policy: .any, verifyName: verifyChecksum)
        let pack = namedFile(.data, seed: 4)
        try a.write(pack.file, data: pack.bytes)
        XCTAssertEqual(try mirror.list(.data).map(\.file), [pack.file])
        XCTAssertEqual(dead.calls(.list), 1)
        XCTAssertEqual(try mirror.list(.data).map(\.file), [pack.file])
        _ = try mirror.list(.index)
        XCTAssertEqual(dead.calls(.list), 1, "not listed again")
        XCTAssertEqual(try mirror.read(pack.file), pack.bytes)
        XCTAssertEqual(dead.calls(.read), 0, "read only when no other replica serves the file")

        // Nor is it sent writes once a read of it failed so: under `any` they land on the other
        // replica at once, and the replica lags (with the hint to sync) from the first write it misses.
        let warnings = Warnings()
        let writer = MirrorBackend(replicas: replicas([a, dead]), policy: .any, verifyName: verifyChecksum, report: warnings.report)
        XCTAssertThrowsError(try writer.read(namedFile(.data, seed: 6).file), "a lacks it, the other cannot be reached")
        let snapshot = namedFile(.snapshots, seed: 5)
        try writer.write(snapshot.file, data: snapshot.bytes)
        XCTAssertEqual(dead.calls(.write), 0)
        XCTAssertTrue(writer.replicaStates()[1].down && writer.replicaStates()[1].lagging)
        XCTAssertTrue(warnings.contain("is sent no writes: it could not be reached") && warnings.contain("snap mirror sync"), "\(warnings.all)")
    }

    // A lock one replica lacks is read from another without a hint to sync: sync never
    // copies locks, so the hint could never be followed.
    func testALockOneReplicaLacksIsReadWithoutAHint() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let lock = namedFile(.locks, seed: 3)
        try b.write(lock.file, data: lock.bytes)
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum, report: warnings.report)
        XCTAssertEqual(try mirror.read(lock.file), lock.bytes)
        XCTAssertEqual(warnings.all, [])
    }

    // notFound only when every replica says so; a missing file plus an error is an error naming both.
    func testNotFoundOnlyWhenEveryReplicaSaysSo() throws {
        let missing = FileName(.snapshots, checksumName([9]))
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([MemoryBackend(), MemoryBackend()]), report: warnings.report)
        XCTAssertThrowsError(try mirror.read(missing)) { error in
            guard case StorageError.notFound(let file, _)? = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, missing)
        }
        XCTAssertFalse(try mirror.exists(missing))
        XCTAssertEqual(warnings.all, [], "nothing to report when no replica has it")

        let broken = FaultInjectingBackend(MemoryBackend(), rules: [FaultRule(.read, .transient, probability: 1)])
        let mixed = MirrorBackend(replicas: replicas([MemoryBackend(), broken]))
        XCTAssertThrowsError(try mixed.read(missing)) { error in
            guard let error = error as? StorageError, case .transient = error else { return XCTFail("\(error)") }
            XCTAssertTrue(error.description.contains("a: ") && error.description.contains("b: "), "\(error)")
        }
    }

    // A whole-file read whose bytes do not match the name fails over, and the bad replica is named.
    func testWholeReadFailsOverOnContentNotMatchingName() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let pack = namedFile(.data, seed: 3)
        for store in [a, b] { try store.write(pack.file, data: pack.bytes) }
        a.tamper(pack.file) { $0[7] ^= 1 }
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum, report: warnings.report)
        XCTAssertEqual(try mirror.read(pack.file), pack.bytes)
        XCTAssertTrue(warnings.contain("replica a returned a copy of \(pack.file) whose content does not match its name"),
                      "\(warnings.all)")
        XCTAssertEqual(mirror.replicaStates()[0].badCopies, 1)
    }

    // The same when the replica's transfer damages the bytes (a corrupting read fault).
    func testWholeReadFailsOverOnCorruptingTransfer() throws {
        let aStore = MemoryBackend(), b = MemoryBackend()
        let a = FaultInjectingBackend(aStore, rules: [FaultRule(.read, .corrupt, calls: [1])])
        let snapshot = namedFile(.snapshots, seed: 4)
        for store in [aStore, b] { try store.write(snapshot.file, data: snapshot.bytes) }
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum)
        XCTAssertEqual(try mirror.read(snapshot.file), snapshot.bytes)
        XCTAssertEqual(a.injected(.read), 1)
    }

    // When every copy is bad the first is returned, as a single backend would, for the caller to report.
    func testEveryCopyBadReturnsTheFirst() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let key = namedFile(.keys, seed: 5)
        for store in [a, b] { try store.write(key.file, data: key.bytes) }
        a.tamper(key.file) { $0[0] ^= 1 }
        b.tamper(key.file) { $0[1] ^= 1 }
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum)
        XCTAssertEqual(try mirror.read(key.file), try a.read(key.file))
    }

    // config and locks are not named by content, so their reads are never checked against the name.
    func testConfigIsNotCheckedAgainstItsName() throws {
        let a = MemoryBackend()
        try a.write(.config, data: [1, 2, 3])
        let mirror = MirrorBackend(replicas: replicas([a, MemoryBackend()]), verifyName: { _, _ in false })
        XCTAssertEqual(try mirror.read(.config), [1, 2, 3])
    }

    // A range that isValid rejects is read again from the next replica.
    func testRangeReadFailsOverWhenIsValidRejects() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let pack = namedFile(.data, seed: 6)
        for store in [a, b] { try store.write(pack.file, data: pack.bytes) }
        a.tamper(pack.file) { $0[120] ^= 0x80 }
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum, report: warnings.report)
        let range = 100..<200
        let expected = Array(pack.bytes[range])
        var offered = 0
        let bytes = try mirror.read(pack.file, range: range) { candidate in
            offered += 1
            return candidate == expected
        }
        XCTAssertEqual(bytes, expected)
        XCTAssertEqual(offered, 2)
        XCTAssertTrue(warnings.contain("replica a returned bytes 100..<200 of \(pack.file) that fail validation"), "\(warnings.all)")
        // Read-repair replaced a's copy (MirrorReadRepairTests), so a plain range read, which
        // cannot be checked against the name and returns the first replica's bytes, is right.
        XCTAssertEqual(try a.read(pack.file), pack.bytes)
        XCTAssertEqual(try mirror.read(pack.file, range: range), expected)
    }

    // A copy too short for the range fails over; invalidRange only when every replica says so.
    func testShortCopyFailsOverAndInvalidRangeWhenAllAreShort() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let pack = namedFile(.data, seed: 7, count: 1000)
        try a.write(pack.file, data: Array(pack.bytes.prefix(500)))
        try b.write(pack.file, data: pack.bytes)
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b]), report: warnings.report)
        XCTAssertEqual(try mirror.read(pack.file, range: 900..<1000), Array(pack.bytes[900..<1000]))
        XCTAssertTrue(warnings.contain("replica a has a short copy"), "\(warnings.all)")
        XCTAssertThrowsError(try mirror.read(pack.file, range: 900..<1001)) { error in
            guard case StorageError.invalidRange(let file, let range, _, _)? = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, pack.file)
            XCTAssertEqual(range, 900..<1001)
        }
    }

    // list is the union of the replicas that answer, each file once with the first replica's size.
    func testListIsTheUnionOfReachableReplicas() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let c = FaultInjectingBackend(MemoryBackend(), rules: [FaultRule(.list, .permanent, probability: 1)])
        let one = namedFile(.data, seed: 8), two = namedFile(.data, seed: 9), three = namedFile(.data, seed: 10)
        try a.write(one.file, data: one.bytes)
        try a.write(two.file, data: two.bytes)
        try b.write(two.file, data: Array(two.bytes.prefix(10)))
        try b.write(three.file, data: three.bytes)
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b, c]), report: warnings.report)
        let listed = try mirror.list(.data)
        XCTAssertEqual(listed.count, 3)
        XCTAssertEqual(Set(listed), [FileInfo(file: one.file, size: 300), FileInfo(file: two.file, size: 300),
                                     FileInfo(file: three.file, size: 300)])
        XCTAssertTrue(warnings.contain("replica c cannot list its data files"), "\(warnings.all)")
        XCTAssertEqual(mirror.replicaStates().map(\.lagging), [true, true, true], "each lacks a pack another has")

        let none = MirrorBackend(replicas: replicas([c]))
        XCTAssertThrowsError(try none.list(.data)) { error in
            XCTAssertTrue("\(error)".contains("no replica could be listed"), "\(error)")
        }
    }
}
