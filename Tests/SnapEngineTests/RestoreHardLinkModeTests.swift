import XCTest
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// `--overwrite if-changed` and `--dry-run` over a target that already holds a restore of
/// a hard-linked file: a further name that already is the link is left alone and said
/// unchanged, in a dry run too; one that is not is relinked and said updated.
final class RestoreHardLinkModeTests: XCTestCase {
    private var fixture: BackupFixture!
    private var source: [UInt8] = []
    private var backup: BackupResult!

    /// src/a.bin and src/b.bin, two names of one file, and src/c.txt.
    override func setUpWithError() throws {
        fixture = try BackupFixture()
        source = fixture.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(source)
        try Disk.write(at("a.bin"), seededBytes(count: 80_000, seed: 5))
        try Disk.link(at("a.bin"), at("b.bin"))
        try Disk.write(at("c.txt"), Array("c\n".utf8))
        backup = try fixture.backup([fixture.source("src")])
    }

    override func tearDown() { fixture = nil }

    private func at(_ relative: String) -> [UInt8] { PathBytes.join(source, Disk.bytes(relative)) }
    private func restored(_ relative: String) -> [UInt8] { fixture.restored(at(relative)) }

    private func restore(dryRun: Bool = false) throws -> RestoreResult {
        let result = try fixture.restore(backup.snapshot.tree) { $0.dryRun = dryRun }
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        return result
    }

    private func isOneFile(_ first: String, _ second: String) throws -> Bool {
        let a = try Disk.lstat(restored(first)), b = try Disk.lstat(restored(second))
        return a.st_ino == b.st_ino && a.st_dev == b.st_dev
    }

    func testAFurtherNameThatIsAlreadyTheLinkIsUnchanged() throws {
        _ = try restore()
        XCTAssertTrue(try isOneFile("a.bin", "b.bin"))
        for dryRun in [true, false] {
            let again = try restore(dryRun: dryRun)
            XCTAssertEqual([again.updated, again.unchanged], [0, 3], "dry run: \(dryRun)")
        }
        XCTAssertTrue(try isOneFile("a.bin", "b.bin"))
    }

    func testABrokenLinkIsRelinked() throws {
        _ = try restore()
        // b.bin a copy with the same content and time: a file of its own.
        let content = try Disk.read(restored("b.bin"))
        let mtime = try Disk.lstat(restored("b.bin")).st_mtim
        XCTAssertEqual(PathBytes.withCString(restored("b.bin")) { unlink($0) }, 0)
        try Disk.write(restored("b.bin"), content)
        try Disk.setMtime(restored("b.bin"), seconds: mtime.tv_sec, nanoseconds: mtime.tv_nsec)

        let dry = try restore(dryRun: true)
        XCTAssertEqual([dry.updated, dry.unchanged], [1, 2])
        XCTAssertFalse(try isOneFile("a.bin", "b.bin"), "a dry run changes nothing")
        let real = try restore()
        XCTAssertEqual([real.updated, real.unchanged], [1, 2])
        XCTAssertTrue(try isOneFile("a.bin", "b.bin"))
    }

    func testARewrittenFirstNameTakesItsFurtherNamesAlong() throws {
        _ = try restore()
        var changed = try Disk.read(restored("a.bin"))
        changed[40_000] ^= 0xff
        try Disk.write(restored("a.bin"), changed)  // in place: b.bin changes with it
        try Disk.setMtime(restored("a.bin"), seconds: 1_600_000_000)

        let dry = try restore(dryRun: true)
        XCTAssertEqual([dry.updated, dry.unchanged], [2, 1])
        let real = try restore()
        XCTAssertEqual([real.updated, real.unchanged], [2, 1])
        XCTAssertTrue(try isOneFile("a.bin", "b.bin"))
        XCTAssertEqual(try Disk.read(restored("b.bin")), try Disk.read(at("a.bin")))
    }
}
