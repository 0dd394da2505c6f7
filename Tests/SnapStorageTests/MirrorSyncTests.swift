import XCTest
import SnapStorage
import SnapTestSupport

/// The files of a small repository: one key file, config, three packs, an index and a snapshot.
struct SmallRepository {
    var files: [(file: FileName, bytes: [UInt8])] = []

    init(seed: UInt64) {
        files.append(namedFile(.keys, seed: seed))
        files.append((.config, seededBytes(count: 50, seed: seed + 1)))
        for i in 0..<3 { files.append(namedFile(.data, seed: seed + 2 + UInt64(i), count: 1000 + i)) }
        files.append(namedFile(.index, seed: seed + 10))
        files.append(namedFile(.snapshots, seed: seed + 11))
    }

    func of(_ kind: FileKind) -> [(file: FileName, bytes: [UInt8])] { files.filter { $0.file.kind == kind } }

    func write(to backends: Backend...) throws {
        for backend in backends { for (file, bytes) in files { try backend.write(file, data: bytes) } }
    }
}

final class MirrorSyncTests: XCTestCase {
    // An empty replica is filled in dependency order — key files, config, packs, index, snapshots —
    // and afterwards every replica holds the same files with the same bytes.
    func testSyncHealsInDependencyOrder() throws {
        let repo = SmallRepository(seed: 1)
        let a = MemoryBackend(), b = MemoryBackend(), c = RecordingBackend(MemoryBackend())
        try repo.write(to: a, b)
        let result = try MirrorSync.run(replicas([a, b, c]), verifyName: verifyChecksum)
        XCTAssertEqual(result.problems, [])
        XCTAssertEqual(result.actions.count, repo.files.count)
        XCTAssertTrue(result.actions.allSatisfy { $0.action == .copy && $0.from == "a" && $0.to == "c" })

        let order: [FileKind] = [.keys, .config, .data, .index, .snapshots]
        let phases = c.writes.map { order.firstIndex(of: $0.kind)! }
        XCTAssertEqual(phases, phases.sorted(), "written in dependency order: \(c.writes)")
        XCTAssertEqual(c.writes.count, repo.files.count)
        for (file, bytes) in repo.files { XCTAssertEqual(try c.read(file), bytes) }
        XCTAssertEqual(try fileSet(a), try fileSet(c))
        XCTAssertTrue(MirrorStatus.check(replicas([a, b, c]), verify: true, verifyName: verifyChecksum).inSync)
    }

    // A replica that lagged during a backup (it has some packs, no index or snapshot) is healed;
    // files each replica alone has are spread to all; after that every replica has the same set.
    func testSyncHealsALaggingReplicaAndSpreadsFilesEverywhere() throws {
        let aStore = MemoryBackend(), bStore = MemoryBackend(), cStore = MemoryBackend()
        // A write refused for good (a transient one after the retries would take it down for the run).
        let c = FaultInjectingBackend(cStore, rules: [FaultRule(.write, .permanent, calls: [3])])
        let mirror = MirrorBackend(replicas: replicas([aStore, bStore, c]), policy: .quorum)
        let repo = SmallRepository(seed: 20)
        for (file, bytes) in repo.files { try mirror.write(file, data: bytes) }
        XCTAssertTrue(mirror.replicaStates()[2].lagging)
        let onlyB = namedFile(.snapshots, seed: 40)
        try bStore.write(onlyB.file, data: onlyB.bytes)

        let status = MirrorStatus.check(replicas([aStore, bStore, cStore]), verifyName: verifyChecksum)
        XCTAssertFalse(status.inSync)
        XCTAssertEqual(Set(status.replicas[2].lacking), Set([repo.of(.data)[0].file, repo.of(.index)[0].file,
                                                            repo.of(.snapshots)[0].file, onlyB.file].map(\.description)))
        XCTAssertEqual(status.replicas[1].extra, [onlyB.file.description])

        let result = try MirrorSync.run(replicas([aStore, bStore, cStore]), verifyName: verifyChecksum)
        XCTAssertEqual(result.problems, [])
        XCTAssertEqual(Set(result.actions.map(\.to)), ["a", "c"])
        let expected = Set(repo.files.map(\.file) + [onlyB.file])
        for store in [aStore, bStore, cStore] { XCTAssertEqual(try fileSet(store), expected) }
        XCTAssertTrue(MirrorStatus.check(replicas([aStore, bStore, cStore]), verifyName: verifyChecksum).inSync)
    }

    // Re-running sync does nothing: it recomputes what is missing, and nothing is.
    func testSyncIsIdempotent() throws {
        let a = MemoryBackend(), b = RecordingBackend(MemoryBackend())
        try SmallRepository(seed: 50).write(to: a)
        XCTAssertFalse(try MirrorSync.run(replicas([a, b]), verifyName: verifyChecksum).actions.isEmpty)
        let writes = b.writes.count
        let again = try MirrorSync.run(replicas([a, b]), verifyName: verifyChecksum)
        XCTAssertEqual(again.actions, [])
        XCTAssertEqual(again.problems, [])
        XCTAssertEqual(b.writes.count, writes)
    }

    // A dry run reports the copies it would make and writes nothing.
    func testDryRunWritesNothing() throws {
        let repo = SmallRepository(seed: 60)
        let a = MemoryBackend(), b = RecordingBackend(MemoryBackend())
        try repo.write(to: a)
        let result = try MirrorSync.run(replicas([a, b]), options: .init(dryRun: true), verifyName: verifyChecksum)
        XCTAssertTrue(result.dryRun)
        XCTAssertEqual(result.actions.count, repo.files.count)
        XCTAssertEqual(Set(result.actions.map(\.file)), Set(repo.files.map(\.file.description)))
        XCTAssertEqual(result.actions.map { $0.file.prefix(4) }, ["keys", "conf", "data", "data", "data", "inde", "snap"],
                       "listed in phase order")
        XCTAssertEqual(b.events, [])
        XCTAssertEqual(try fileSet(b), [])
    }

    // A source whose copy does not match its name is not copied from: the next source is used,
    // the damaged source is reported and repaired.
    func testSyncSkipsAndRepairsADamagedSource() throws {
        let a = MemoryBackend(), b = MemoryBackend(), c = MemoryBackend()
        let pack = namedFile(.data, seed: 70)
        try a.write(pack.file, data: pack.bytes)
        try b.write(pack.file, data: pack.bytes)
        a.tamper(pack.file) { $0[3] ^= 0x10 }
        let warnings = Warnings()
        let result = try MirrorSync.run(replicas([a, b, c]), verifyName: verifyChecksum, report: warnings.report)
        XCTAssertEqual(result.problems, [])
        XCTAssertEqual(try c.read(pack.file), pack.bytes)
        XCTAssertEqual(try a.read(pack.file), pack.bytes)
        XCTAssertTrue(warnings.contain("replica a has a damaged copy of \(pack.file)"), "\(warnings.all)")
        XCTAssertEqual(Set(result.actions.map { "\($0.action.rawValue) \($0.from ?? "-")>\($0.to)" }), ["copy b>c", "repair b>a"])
    }

    // A file with no good copy anywhere is reported and not copied; it does not hold back the rest.
    func testFileWithNoGoodCopyIsReportedNotCopied() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let pack = namedFile(.data, seed: 80), index = namedFile(.index, seed: 81)
        try a.write(pack.file, data: pack.bytes)
        try a.write(index.file, data: index.bytes)
        a.tamper(pack.file) { $0[0] ^= 1 }
        let result = try MirrorSync.run(replicas([a, b]), verifyName: verifyChecksum)
        XCTAssertFalse(try b.exists(pack.file))
        XCTAssertTrue(try b.exists(index.file))
        XCTAssertEqual(result.problems.count, 1)
        XCTAssertTrue(result.problems[0].contains("has no good copy on any replica"), "\(result.problems)")
        XCTAssertFalse(result.isComplete)
    }

    // Without --verify only listings are compared, so a same-size damaged copy goes unnoticed;
    // with --verify every copy is read and the damaged one replaced.
    func testVerifyFindsAndRepairsDamagedCopies() throws {
        let a = MemoryBackend(), b = MemoryBackend(), c = MemoryBackend()
        let repo = SmallRepository(seed: 90)
        try repo.write(to: a, b, c)
        let pack = repo.of(.data)[1].file
        b.tamper(pack) { $0[500] ^= 0xff }
        XCTAssertEqual(try MirrorSync.run(replicas([a, b, c]), verifyName: verifyChecksum).actions, [])
        XCTAssertTrue(MirrorStatus.check(replicas([a, b, c]), verifyName: verifyChecksum).inSync)

        let status = MirrorStatus.check(replicas([a, b, c]), verify: true, verifyName: verifyChecksum)
        XCTAssertEqual(status.replicas.map(\.damaged), [[], [pack.description], []])
        let result = try MirrorSync.run(replicas([a, b, c]), options: .init(verify: true), verifyName: verifyChecksum)
        XCTAssertEqual(result.actions, [MirrorSync.Action(action: .repair, file: pack.description, from: "a", to: "b", bytes: 1001)])
        XCTAssertEqual(try b.read(pack), try a.read(pack))
    }

    // A copy whose size differs from the others counts as damaged even without --verify.
    func testSizeMismatchIsRepairedWithoutVerify() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let index = namedFile(.index, seed: 100)
        try a.write(index.file, data: Array(index.bytes.prefix(100)))
        try b.write(index.file, data: index.bytes)
        let status = MirrorStatus.check(replicas([a, b]), verifyName: verifyChecksum)
        XCTAssertEqual(status.replicas[0].damaged, [index.file.description])
        let result = try MirrorSync.run(replicas([a, b]), verifyName: verifyChecksum)
        XCTAssertEqual(result.actions.map(\.action), [.repair])
        XCTAssertEqual(try a.read(index.file), index.bytes)
    }

    // A replica that a pack copy failed to reach gets no index or snapshot in that run (it must
    // not name a pack it lacks); the next run completes it.
    func testFailedCopyHoldsBackLaterPhasesForThatReplica() throws {
        let repo = SmallRepository(seed: 110)
        let a = MemoryBackend(), cStore = MemoryBackend()
        try repo.write(to: a)
        // Write calls are counted over all kinds: 1 is the key file, 2 config, 3 the first pack.
        let c = FaultInjectingBackend(cStore, rules: [FaultRule(.write, .permanent, calls: [3], kind: .data)])
        let first = try MirrorSync.run(replicas([a, c]), options: .init(parallelism: 1), verifyName: verifyChecksum)
        XCTAssertEqual(first.problems.count, 3, "\(first.problems)")
        XCTAssertTrue(first.problems.contains { $0.contains("cannot copy data/") })
        XCTAssertTrue(first.problems.contains { $0.contains("did not copy index files to b") })
        XCTAssertTrue(first.problems.contains { $0.contains("did not copy snapshots to b") })
        XCTAssertEqual(try cStore.list(.index), [])
        XCTAssertEqual(try cStore.list(.snapshots), [])
        XCTAssertEqual(try cStore.list(.data).count, 2)

        let second = try MirrorSync.run(replicas([a, c]), verifyName: verifyChecksum)
        XCTAssertEqual(second.problems, [])
        XCTAssertEqual(try fileSet(cStore), try fileSet(a))
    }

    // Files the first replica lacks are copied to it by default; with deleteExtra they are deleted
    // from the others instead, snapshots before index files before packs. Keys are never deleted.
    // (The first replica went through a prune the other missed: it holds the prune's new index file.)
    func testDeleteExtraFollowsTheFirstReplica() throws {
        let repo = SmallRepository(seed: 120)
        let aStore = MemoryBackend(), bStore = MemoryBackend()
        try repo.write(to: aStore, bStore)
        let pruned = namedFile(.index, seed: 139)
        try aStore.write(pruned.file, data: pruned.bytes)
        let extras = [namedFile(.data, seed: 130), namedFile(.index, seed: 131), namedFile(.snapshots, seed: 132),
                      namedFile(.keys, seed: 133)]
        for (file, bytes) in extras { try bStore.write(file, data: bytes) }
        let b = RecordingBackend(bStore)

        let dry = try MirrorSync.run(replicas([aStore, b]), options: .init(dryRun: true, deleteExtra: true), verifyName: verifyChecksum)
        XCTAssertEqual(dry.actions.filter { $0.action == .delete }.map(\.file),
                       [extras[2].file, extras[1].file, extras[0].file].map(\.description))
        XCTAssertEqual(b.events, [])

        let result = try MirrorSync.run(replicas([aStore, b]), options: .init(deleteExtra: true), verifyName: verifyChecksum)
        XCTAssertEqual(result.problems, [])
        XCTAssertEqual(b.deletes, [extras[2].file, extras[1].file, extras[0].file])
        XCTAssertEqual(result.actions.filter { $0.action == .copy }.map(\.file), [extras[3].file.description, pruned.file.description])
        XCTAssertEqual(try fileSet(aStore), try fileSet(bStore))

        let plain = MemoryBackend(), other = MemoryBackend()
        try other.write(extras[0].file, data: extras[0].bytes)
        _ = try MirrorSync.run(replicas([plain, other]), verifyName: verifyChecksum)
        XCTAssertTrue(try plain.exists(extras[0].file), "without deleteExtra, a file the first replica lacks is copied to it")
    }

    // A replica holds a snapshot (with its index file and pack) that the first lacks, and the
    // first went through no prune it missed: a backup the first replica missed. deleteExtra
    // refuses and changes nothing; a plain sync copies the backup to the first replica.
    func testDeleteExtraRefusesToDeleteABackupTheFirstReplicaMissed() throws {
        let repo = SmallRepository(seed: 150)
        let aStore = MemoryBackend(), bStore = MemoryBackend()
        try repo.write(to: aStore, bStore)
        let backup = [namedFile(.data, seed: 160), namedFile(.index, seed: 161), namedFile(.snapshots, seed: 162)]
        for (file, bytes) in backup { try bStore.write(file, data: bytes) }
        let before = try fileSet(bStore)
        XCTAssertThrowsError(try MirrorSync.run(replicas([aStore, bStore]), options: .init(deleteExtra: true), verifyName: verifyChecksum)) {
            XCTAssertTrue("\($0)".contains("look like backups"), "\($0)")
        }
        XCTAssertThrowsError(try MirrorSync.run(replicas([aStore, bStore]), options: .init(dryRun: true, deleteExtra: true), verifyName: verifyChecksum))
        XCTAssertEqual(try fileSet(bStore), before)
        _ = try MirrorSync.run(replicas([aStore, bStore]), verifyName: verifyChecksum)
        XCTAssertEqual(try fileSet(aStore), before)
    }

    // deleteExtra refuses to run when the first replica cannot be listed.
    func testDeleteExtraNeedsTheFirstReplica() throws {
        let down = FaultInjectingBackend(MemoryBackend(), rules: [FaultRule(.list, .permanent, probability: 1)])
        XCTAssertThrowsError(try MirrorSync.run(replicas([down, MemoryBackend()]), options: .init(deleteExtra: true),
                                                verifyName: verifyChecksum))
        XCTAssertThrowsError(try MirrorSync.run(replicas([down]), verifyName: verifyChecksum))
    }

    // `targets` limits the replicas written to (mirror add copies only to the new replica).
    func testTargetsLimitWhoReceives() throws {
        let a = MemoryBackend(), b = MemoryBackend(), fresh = MemoryBackend()
        let repo = SmallRepository(seed: 140)
        try repo.write(to: a)
        let onlyB = namedFile(.snapshots, seed: 150)
        try b.write(onlyB.file, data: onlyB.bytes)
        let result = try MirrorSync.run(replicas([a, b, fresh]), options: .init(targets: [2]), verifyName: verifyChecksum)
        XCTAssertEqual(result.problems, [])
        XCTAssertTrue(result.actions.allSatisfy { $0.to == "c" })
        XCTAssertEqual(try fileSet(fresh), Set(repo.files.map(\.file) + [onlyB.file]))
        XCTAssertFalse(try a.exists(onlyB.file))
    }

    // Replicas with different config files are two repositories: status reports it, and sync
    // refuses before copying anything (keys, packs and snapshots of one would be junk in the other).
    func testDifferingConfigIsAConflict() throws {
        let a = MemoryBackend(), b = MemoryBackend(), c = MemoryBackend()
        let onlyB = namedFile(.snapshots, seed: 50)
        try a.write(.config, data: [1, 2, 3])
        try b.write(.config, data: [1, 2, 4])  // the same size: found by the bytes
        try b.write(onlyB.file, data: onlyB.bytes)
        let status = MirrorStatus.check(replicas([a, b, c]), verifyName: verifyChecksum)
        XCTAssertTrue(status.problems.contains { $0.contains("different config files") }, "\(status.problems)")
        XCTAssertThrowsError(try MirrorSync.run(replicas([a, b, c]), verifyName: verifyChecksum)) { error in
            XCTAssertTrue("\(error)".contains("different repositories"), "\(error)")
        }
        XCTAssertFalse(try c.exists(.config))
        XCTAssertFalse(try a.exists(onlyB.file), "nothing copied")
        XCTAssertEqual(try a.read(.config), [1, 2, 3])

        try b.write(.config, data: [1, 2, 3])
        XCTAssertNoThrow(try MirrorSync.run(replicas([a, b, c]), verifyName: verifyChecksum))
        XCTAssertEqual(try c.read(.config), [1, 2, 3])
    }
}
