import XCTest
import SnapStorage
import SnapTestSupport

/// A backend whose listings are empty, as if taken just before a concurrent write landed.
private final class StaleListing: ForwardingBackend, @unchecked Sendable {
    override func list(_ kind: FileKind) throws -> [FileInfo] { [] }
}

final class MirrorWriteTests: XCTestCase {
    // Policies count a strict majority for quorum (so 2 of 2) and one for any.
    func testPolicyThresholds() {
        XCTAssertEqual([1, 2, 3, 4, 5].map { MirrorPolicy.quorum.required(of: $0) }, [1, 2, 2, 3, 3])
        XCTAssertEqual([1, 2, 3].map { MirrorPolicy.all.required(of: $0) }, [1, 2, 3])
        XCTAssertEqual([1, 2, 3].map { MirrorPolicy.any.required(of: $0) }, [1, 1, 1])
    }

    // A write lands on every replica, and the location names them all.
    func testWriteReachesEveryReplica() throws {
        let stores = (0..<3).map { MemoryBackend(location: "memory:\($0)") }
        let mirror = MirrorBackend(replicas: replicas(stores))
        let (file, bytes) = namedFile(.data, seed: 1)
        try mirror.write(file, data: bytes)
        for store in stores { XCTAssertEqual(try store.read(file), bytes) }
        XCTAssertEqual(mirror.location, "mirror(a, b, c)")
    }

    // Two repositories given as one mirror (different config files) are refused before the
    // first write, delete or read of config reaches any of them; replicas without a config
    // (new, to be synced) and replicas of one repository are not.
    func testReplicasOfTwoRepositoriesAreRefused() throws {
        let a = MemoryBackend(), b = MemoryBackend(), fresh = MemoryBackend()
        try a.write(.config, data: [1, 2, 3])
        try b.write(.config, data: [1, 2, 4])
        let (file, bytes) = namedFile(.data, seed: 7)
        let two = MirrorBackend(replicas: replicas([a, b, fresh]))
        for attempt in [{ try two.write(file, data: bytes) }, { try two.delete(file) }, { _ = try two.read(.config) },
                        { _ = try two.list(.keys) }] {
            XCTAssertThrowsError(try attempt()) { error in
                XCTAssertTrue("\(error)".contains("a and b hold different repositories"), "\(error)")
            }
        }
        for store in [a, b, fresh] { XCTAssertFalse(try store.exists(file)) }
        XCTAssertFalse(try fresh.exists(.config), "nothing repaired from either")

        try b.write(.config, data: [1, 2, 3])
        let one = MirrorBackend(replicas: replicas([a, b, fresh]))
        try one.write(file, data: bytes)
        XCTAssertEqual(try one.read(.config), [1, 2, 3])
        for store in [a, b, fresh] { XCTAssertEqual(try store.read(file), bytes) }
    }

    /// Runs one write through a mirror of `count` memory replicas whose last replica fails
    /// every write with `fault`; returns the error, if any.
    private func writeWithLastFailing(count: Int, policy: MirrorPolicy, fault: Fault) -> Error? {
        var backends: [Backend] = (1..<count).map { _ in MemoryBackend() }
        backends.append(FaultInjectingBackend(MemoryBackend(), rules: [FaultRule(.write, fault, probability: 1)]))
        let mirror = MirrorBackend(replicas: replicas(backends), policy: policy)
        let (file, bytes) = namedFile(.data, seed: 2)
        do {
            try mirror.write(file, data: bytes)
            return nil
        } catch {
            return error
        }
    }

    // One replica of three down: all fails, quorum and any succeed; of two: all and quorum fail, any succeeds.
    func testPolicyDecidesSuccessWithOneReplicaFailing() {
        for fault in [Fault.permanent, .transient] {
            XCTAssertNotNil(writeWithLastFailing(count: 3, policy: .all, fault: fault), "all of 3, \(fault)")
            XCTAssertNil(writeWithLastFailing(count: 3, policy: .quorum, fault: fault), "quorum of 3, \(fault)")
            XCTAssertNil(writeWithLastFailing(count: 3, policy: .any, fault: fault), "any of 3, \(fault)")
            XCTAssertNotNil(writeWithLastFailing(count: 2, policy: .all, fault: fault), "all of 2, \(fault)")
            XCTAssertNotNil(writeWithLastFailing(count: 2, policy: .quorum, fault: fault), "quorum of 2, \(fault)")
            XCTAssertNil(writeWithLastFailing(count: 2, policy: .any, fault: fault), "any of 2, \(fault)")
        }
    }

    // The error is transient only when every failure was, and it names the failed replica and the count.
    func testPolicyFailureIsClassifiedAndNamesReplicas() throws {
        let transient = try XCTUnwrap(writeWithLastFailing(count: 3, policy: .all, fault: .transient) as? StorageError)
        XCTAssertTrue(transient.isTransient)
        XCTAssertTrue(transient.description.contains("c: "), "\(transient)")
        XCTAssertTrue(transient.description.contains("written to 2 of 3 replicas, and the all policy needs 3"), "\(transient)")
        let permanent = try XCTUnwrap(writeWithLastFailing(count: 3, policy: .all, fault: .permanent) as? StorageError)
        XCTAssertFalse(permanent.isTransient)

        let mixed = MirrorBackend(replicas: replicas([
            MemoryBackend(),
            FaultInjectingBackend(MemoryBackend(), rules: [FaultRule(.write, .transient, probability: 1)]),
            FaultInjectingBackend(MemoryBackend(), rules: [FaultRule(.write, .permanent, probability: 1)]),
        ]), policy: .quorum)
        let (file, bytes) = namedFile(.data, seed: 3)
        XCTAssertThrowsError(try mixed.write(file, data: bytes)) { error in
            guard let error = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertFalse(error.isTransient)
            XCTAssertTrue(error.description.contains("b: ") && error.description.contains("c: "), "\(error)")
        }
    }

    // After a failed write a replica lags: it still gets packs, but no index, snapshot, key or
    // config file, so it never names a pack it lacks; the warning names it and says to sync.
    func testLaggingReplicaGetsPacksButNoLaterIndexOrSnapshots() throws {
        let a = MemoryBackend(), b = MemoryBackend(), cStore = MemoryBackend()
        let c = FaultInjectingBackend(cStore, rules: [FaultRule(.write, .permanent, calls: [1])])
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b, c]), policy: .quorum, report: warnings.report)
        let pack1 = namedFile(.data, seed: 10), pack2 = namedFile(.data, seed: 11)
        let index = namedFile(.index, seed: 12), snapshot = namedFile(.snapshots, seed: 13), key = namedFile(.keys, seed: 14)
        try mirror.write(pack1.file, data: pack1.bytes)
        XCTAssertTrue(warnings.contain("replica c cannot write \(pack1.file)"), "\(warnings.all)")
        XCTAssertTrue(warnings.contain("so it is lagging"), "\(warnings.all)")
        XCTAssertTrue(warnings.contain("snap mirror sync"), "\(warnings.all)")
        try mirror.write(pack2.file, data: pack2.bytes)
        try mirror.write(index.file, data: index.bytes)
        try mirror.write(snapshot.file, data: snapshot.bytes)
        try mirror.write(key.file, data: key.bytes)
        try mirror.write(.config, data: [1, 2, 3])

        XCTAssertEqual(try fileSet(cStore), [pack2.file])
        for store in [a, b] {
            XCTAssertEqual(try fileSet(store), [pack1.file, pack2.file, index.file, snapshot.file, key.file, .config])
        }
        let state = mirror.replicaStates()[2]
        XCTAssertTrue(state.lagging)
        XCTAssertEqual(state.failedWrites, 1)
        XCTAssertEqual(state.skippedWrites, 4)
        XCTAssertFalse(mirror.replicaStates()[0].lagging)
        XCTAssertEqual(warnings.all.filter { $0.contains("lagging") }.count, 1, "warned once")
    }

    // A replica that lagged in an earlier run and was not synced lacks index files the others
    // have: listing the index (as every backup does first) marks it lagging, so it gets no new
    // snapshot, whose trees its own index files might not cover.
    func testListingFindsAReplicaThatLaggedInAnEarlierRun() throws {
        let a = MemoryBackend(), b = MemoryBackend(), c = MemoryBackend()
        let oldIndex = namedFile(.index, seed: 70), newSnapshot = namedFile(.snapshots, seed: 71)
        try a.write(oldIndex.file, data: oldIndex.bytes)
        try b.write(oldIndex.file, data: oldIndex.bytes)
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b, c]), report: warnings.report)
        XCTAssertEqual(try mirror.list(.index).map(\.file), [oldIndex.file])
        XCTAssertTrue(mirror.replicaStates()[2].lagging)
        XCTAssertTrue(warnings.contain("replica c lacks 1 index file that other replicas have (for example \(oldIndex.file))"),
                      "\(warnings.all)")
        try mirror.write(newSnapshot.file, data: newSnapshot.bytes)
        XCTAssertFalse(try c.exists(newSnapshot.file))
        XCTAssertEqual(mirror.replicaStates().map(\.lagging), [false, false, true])
    }

    // A file missing from one listing but found when looked up again (another process was
    // writing it) does not make the replica lag; a replica that cannot list does.
    func testListingRaceIsNotLagButListFailureIs() throws {
        let a = MemoryBackend(), bStore = MemoryBackend()
        let pack = namedFile(.data, seed: 80)
        try a.write(pack.file, data: pack.bytes)
        try bStore.write(pack.file, data: pack.bytes)
        let b = StaleListing(bStore)
        let c = FaultInjectingBackend(MemoryBackend(), rules: [FaultRule(.list, .transient, probability: 1)])
        let mirror = MirrorBackend(replicas: replicas([a, b, c]))
        XCTAssertEqual(try mirror.list(.data).count, 1)
        XCTAssertEqual(mirror.replicaStates().map(\.lagging), [false, false, true])
    }

    // With two replicas, a lagging one no longer counts toward quorum for index writes: they fail.
    func testSkippedLaggingReplicaCountsAgainstThePolicy() throws {
        let c = FaultInjectingBackend(MemoryBackend(), rules: [FaultRule(.write, .permanent, calls: [1])])
        let mirror = MirrorBackend(replicas: replicas([MemoryBackend(), c]), policy: .any)
        let pack = namedFile(.data, seed: 20), index = namedFile(.index, seed: 21)
        try mirror.write(pack.file, data: pack.bytes)
        try mirror.write(index.file, data: index.bytes)

        let strict = MirrorBackend(replicas: replicas([MemoryBackend(), FaultInjectingBackend(MemoryBackend(),
            rules: [FaultRule(.write, .permanent, calls: [1])])]), policy: .all)
        XCTAssertThrowsError(try strict.write(pack.file, data: pack.bytes))
        XCTAssertThrowsError(try strict.write(index.file, data: index.bytes)) { error in
            XCTAssertTrue("\(error)".contains("b: skipped: lagging (write \(pack.file)"), "\(error)")
        }
    }

    // A write returns only after every replica answered, also under `any`, so a failure is
    // known (and the replica lagging) before the caller writes files that depend on it.
    func testWriteWaitsForTheSlowestReplica() throws {
        let slow = MemoryBackend()
        let mirror = MirrorBackend(replicas: replicas([
            MemoryBackend(), FaultInjectingBackend(slow, rules: [FaultRule(.write, .delay(0.2), probability: 1)]),
        ]), policy: .any)
        let pack = namedFile(.data, seed: 30)
        try mirror.write(pack.file, data: pack.bytes)
        XCTAssertEqual(try slow.read(pack.file), pack.bytes)
    }

    /// A mirror of two good replicas and one whose every write fails with `fault`, after
    /// `writes` writes: that replica, how often it was called, and the warnings.
    private func writesWithAFailingReplica(_ fault: Fault, writes: Int) throws
        -> (state: ReplicaState, calls: Int, warnings: Warnings) {
        let broken = FaultInjectingBackend(MemoryBackend(), rules: [FaultRule(.write, fault, probability: 1)])
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([MemoryBackend(), MemoryBackend(), broken]), downAfter: 3, report: warnings.report)
        for seed in 40..<(40 + writes) {
            let pack = namedFile(.data, seed: UInt64(seed))
            try mirror.write(pack.file, data: pack.bytes)
        }
        return (mirror.replicaStates()[2], broken.calls(.write), warnings)
    }

    // A write that fails with a transient error after its retries (the replica cannot be
    // reached) is the last one sent to it: the next writes land on the others at once.
    func testReplicaThatCannotBeReachedGetsNoMoreWrites() throws {
        let (state, calls, warnings) = try writesWithAFailingReplica(.transient, writes: 4)
        XCTAssertEqual(calls, 1)
        XCTAssertTrue(state.down)
        XCTAssertEqual(state.skippedWrites, 3)
        XCTAssertTrue(warnings.contain("could not be reached"), "\(warnings.all)")
        XCTAssertTrue(warnings.contain("snap mirror sync"), "\(warnings.all)")
    }

    // After `downAfter` writes in a row that fail for good (a full disk, refused
    // permission), a replica gets no more calls.
    func testReplicaFailingRepeatedlyGetsNoMoreWrites() throws {
        let (state, calls, warnings) = try writesWithAFailingReplica(.permanent, writes: 6)
        XCTAssertEqual(calls, 3)
        XCTAssertTrue(state.down)
        XCTAssertEqual(state.skippedWrites, 3)
        XCTAssertTrue(warnings.contain("failed 3 writes in a row"), "\(warnings.all)")
    }

    // Delete removes from every replica; one that lacks the file counts as done, and so does a file none has.
    func testDeleteSemantics() throws {
        let a = MemoryBackend(), b = MemoryBackend(), c = MemoryBackend()
        let mirror = MirrorBackend(replicas: replicas([a, b, c]), policy: .all)
        let snapshot = namedFile(.snapshots, seed: 50)
        try a.write(snapshot.file, data: snapshot.bytes)
        try c.write(snapshot.file, data: snapshot.bytes)
        try mirror.delete(snapshot.file)
        for store in [a, b, c] { XCTAssertFalse(try store.exists(snapshot.file)) }
        XCTAssertNoThrow(try mirror.delete(snapshot.file))
        for store in [a, b, c] { XCTAssertFalse(try store.exists(snapshot.file)) }
    }

    // A failed delete makes the replica lag. A lagging replica keeps its packs (its own index
    // may name them), index files (it got no superseding index) and key files (it got no new
    // key), but snapshots and locks are still deleted there.
    func testLaggingReplicaKeepsWhatItsSnapshotsNeedOnDelete() throws {
        let a = MemoryBackend(), b = MemoryBackend(), cStore = MemoryBackend()
        let c = FaultInjectingBackend(cStore, rules: [FaultRule(.delete, .permanent, calls: [1])])
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b, c]), policy: .quorum, report: warnings.report)
        let first = namedFile(.snapshots, seed: 60), second = namedFile(.snapshots, seed: 61)
        let pack = namedFile(.data, seed: 62), index = namedFile(.index, seed: 63), key = namedFile(.keys, seed: 64)
        let lock = namedFile(.locks, seed: 65)
        for store in [a, b, cStore] {
            for (file, bytes) in [first, second, pack, index, key, lock] { try store.write(file, data: bytes) }
        }
        try mirror.delete(first.file)
        XCTAssertTrue(mirror.replicaStates()[2].lagging)
        XCTAssertTrue(warnings.contain("replica c cannot delete \(first.file)"), "\(warnings.all)")
        for file in [second.file, pack.file, index.file, key.file, lock.file] { try mirror.delete(file) }
        XCTAssertEqual(try fileSet(cStore), [first.file, pack.file, index.file, key.file])
        XCTAssertEqual(try cStore.list(.locks), [])
        XCTAssertEqual(try fileSet(a), [])
    }
}
