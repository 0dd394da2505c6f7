import SnapStorage
import SnapTestSupport
import XCTest

/// Read-repair: a read that fails over from a damaged or missing copy writes the verified
/// copy back to that replica.
final class MirrorReadRepairTests: XCTestCase {
    // A whole read meets a damaged pack on the first replica: the copy is replaced, and the
    // next read finds nothing to report.
    func testDamagedWholeCopyIsReplaced() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let pack = namedFile(.data, seed: 11)
        for store in [a, b] { try store.write(pack.file, data: pack.bytes) }
        a.tamper(pack.file) { $0[3] ^= 1 }
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum, report: warnings.report)
        XCTAssertEqual(try mirror.read(pack.file), pack.bytes)
        XCTAssertEqual(try a.read(pack.file), pack.bytes, "the damaged copy was replaced")
        XCTAssertTrue(warnings.contain("replica a had a damaged copy of \(pack.file); wrote the verified copy from b there"), "\(warnings.all)")
        XCTAssertEqual(mirror.replicaStates()[0].repairedCopies, 1)

        let fresh = Warnings()
        let again = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum, report: fresh.report)
        XCTAssertEqual(try again.read(pack.file), pack.bytes)
        XCTAssertEqual(fresh.all, [], "nothing left to find")
    }

    // A range that fails validation on one replica: the whole pack is read from the replica
    // that served the range, checked against its name, and written back.
    func testRangeFailingValidationRepairsTheWholeFile() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let pack = namedFile(.data, seed: 12)
        for store in [a, b] { try store.write(pack.file, data: pack.bytes) }
        a.tamper(pack.file) { $0[20] ^= 0x80 }
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum)
        let good = Array(pack.bytes[16..<32])
        XCTAssertEqual(try mirror.read(pack.file, range: 16..<32, isValid: { $0 == good }), good)
        XCTAssertEqual(try a.read(pack.file), pack.bytes)
        XCTAssertEqual(mirror.replicaStates()[0].repairedCopies, 1)
    }

    // A missing pack is copied back, with one warning that says so (not also advice to run
    // `mirror sync` for it); a missing index file is not copied (it may name packs the
    // replica lacks: `mirror sync` copies those in order), and the warning says to sync.
    func testMissingPackIsCopiedBackButMissingIndexIsNot() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let pack = namedFile(.data, seed: 13), index = namedFile(.index, seed: 14)
        for file in [pack, index] { try b.write(file.file, data: file.bytes) }
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum, report: warnings.report)
        XCTAssertEqual(try mirror.read(pack.file), pack.bytes)
        XCTAssertEqual(warnings.all, ["replica a lacked \(pack.file); wrote the verified copy from b there"])
        XCTAssertEqual(try mirror.read(index.file), index.bytes)
        XCTAssertEqual(try a.read(pack.file), pack.bytes)
        XCTAssertFalse(try a.exists(index.file))
        XCTAssertEqual(warnings.all.count, 2, "\(warnings.all)")
        XCTAssertTrue(warnings.contain("replica a lacks \(index.file), which another replica has; run `snap mirror sync`"), "\(warnings.all)")
    }

    // Without a copy that matches its name there is nothing to repair with.
    func testNoRepairWithoutAVerifiedCopy() throws {
        let a = MemoryBackend(), b = MemoryBackend()
        let pack = namedFile(.data, seed: 15)
        for store in [a, b] { try store.write(pack.file, data: pack.bytes) }
        a.tamper(pack.file) { $0[0] ^= 1 }
        b.tamper(pack.file) { $0[1] ^= 1 }
        let damagedA = try a.read(pack.file), damagedB = try b.read(pack.file)
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum)
        _ = try mirror.read(pack.file)
        XCTAssertEqual(try a.read(pack.file), damagedA)
        XCTAssertEqual(try b.read(pack.file), damagedB)
    }

    // A replica that refuses the repair is reported, and the read still succeeds.
    func testFailedRepairIsReportedAndTheReadSucceeds() throws {
        let aStore = MemoryBackend(), b = MemoryBackend()
        let a = FaultInjectingBackend(aStore, rules: [FaultRule(.write, .permanent, probability: 1)])
        let pack = namedFile(.data, seed: 16)
        try b.write(pack.file, data: pack.bytes)
        let warnings = Warnings()
        let mirror = MirrorBackend(replicas: replicas([a, b]), verifyName: verifyChecksum, report: warnings.report)
        XCTAssertEqual(try mirror.read(pack.file), pack.bytes)
        XCTAssertTrue(warnings.contain("cannot repair \(pack.file) on replica a"), "\(warnings.all)")
        XCTAssertEqual(mirror.replicaStates()[0].repairedCopies, 0)
    }
}
