import Synchronization
import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

final class RestoreDamageTests: XCTestCase {
    /// A backup of src/victim.bin (150 kB of seeded bytes, several chunks), and its node.
    private func backUpOneFile(seed: UInt64) throws -> (BackupFixture, victim: [UInt8], BackupResult, node: Node) {
        let f = try BackupFixture()
        let src = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(src)
        let victim = PathBytes.join(src, Disk.bytes("victim.bin"))
        try Disk.write(victim, seededBytes(count: 150_000, seed: seed))
        let backup = try f.backup([f.source("src")])
        return (f, victim, backup, try XCTUnwrap(try f.snapshotEntries(backup.snapshot.tree)[victim]))
    }

    // A corrupted data blob is reported with the file it belongs to; other files and the file's other chunks
    // are restored, and the restore does not count as a success.
    func testCorruptBlobNamesItsFileAndOthersAreRestored() throws {
        let f = try BackupFixture()
        let src = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(src)
        let victim = PathBytes.join(src, Disk.bytes("victim.bin"))
        let intact = PathBytes.join(src, Disk.bytes("intact.bin"))
        let small = PathBytes.join(src, Disk.bytes("small.txt"))
        try Disk.write(victim, seededBytes(count: 150_000, seed: 10))
        try Disk.write(intact, seededBytes(count: 150_000, seed: 11))
        try Disk.write(small, Array("small\n".utf8))
        for file in [victim, intact, small] { try Disk.setMtime(file, seconds: 1_700_000_000) }
        let backup = try f.backup([f.source("src")])

        let node = try XCTUnwrap(try f.snapshotEntries(backup.snapshot.tree)[victim])
        XCTAssertGreaterThan(node.content.count, 2)
        let damagedIndex = 1
        let damaged = node.content[damagedIndex]
        let location = try XCTUnwrap(f.repository.index.lookup(damaged))
        let packPath = Disk.bytes(f.backend.path(of: FileName(.data, location.pack.hex)))
        var pack = try Disk.read(packPath)
        pack[Int(location.entry.offset + location.entry.length / 2)] ^= 0x01
        try Disk.write(packPath, pack)

        let result = try f.restore(backup.snapshot.tree)
        XCTAssertFalse(result.succeeded)
        XCTAssertEqual(result.errors, [])
        XCTAssertEqual(result.damagedBlobs.map(\.blob), [damaged])
        XCTAssertEqual(result.damagedBlobs.first?.files, [PathBytes.display(victim)])
        XCTAssertEqual(try Disk.read(f.restored(intact)), try Disk.read(intact))
        XCTAssertEqual(try Disk.read(f.restored(small)), try Disk.read(small))

        // The victim has its full size; every chunk but the damaged one is right, and that one reads as zeros.
        let original = try Disk.read(victim)
        let restored = try Disk.read(f.restored(victim))
        XCTAssertEqual(restored.count, original.count)
        var offset = 0
        for (i, id) in node.content.enumerated() {
            let length = Int(try XCTUnwrap(f.repository.index.lookup(id)).entry.rawLength)
            let range = offset..<offset + length
            if i == damagedIndex {
                XCTAssertTrue(restored[range].allSatisfy { $0 == 0 }, "damaged chunk \(i) left as a hole")
            } else {
                XCTAssertTrue(restored[range].elementsEqual(original[range]), "chunk \(i)")
            }
            offset += length
        }
        XCTAssertEqual(offset, original.count)

        // The damaged file keeps the time of this restore, the intact ones get the snapshot's,
        // so that a later restore over them (default `--overwrite if-changed`), once the pack is
        // intact again (repaired, or another replica), compares the damaged file and fills it in.
        func mtime(_ path: [UInt8]) throws -> Int { try Disk.lstat(path).st_mtim.tv_sec }
        XCTAssertEqual(try mtime(f.restored(intact)), try mtime(intact))
        XCTAssertNotEqual(try mtime(f.restored(victim)), Int(node.mtime.seconds))
        pack[Int(location.entry.offset + location.entry.length / 2)] ^= 0x01
        try Disk.write(packPath, pack)
        let again = try f.restore(backup.snapshot.tree)
        XCTAssertTrue(again.succeeded)
        XCTAssertEqual(again.updated, 1, "the damaged file, and only it")
        XCTAssertTrue(try Disk.read(f.restored(victim)) == original, "filled in")
        XCTAssertEqual(try mtime(f.restored(victim)), Int(node.mtime.seconds))
    }

    // A pack cut short: the blobs before the cut are restored (read one by one once the
    // range cannot be read whole); only those past it are reported damaged.
    func testPackCutShortLosesOnlyTheBlobsPastTheCut() throws {
        let (f, victim, backup, node) = try backUpOneFile(seed: 20)
        let locations = try node.content.map { try XCTUnwrap(f.repository.index.lookup($0)) }
        XCTAssertGreaterThan(locations.count, 2)
        XCTAssertEqual(Set(locations.map(\.pack)).count, 1, "one pack")
        // Cut in the middle of the file's last chunk.
        let last = try XCTUnwrap(locations.max { $0.entry.offset < $1.entry.offset })
        let packPath = Disk.bytes(f.backend.path(of: FileName(.data, last.pack.hex)))
        let pack = try Disk.read(packPath)
        try Disk.write(packPath, Array(pack.prefix(Int(last.entry.offset + last.entry.length / 2))))

        let result = try f.restore(backup.snapshot.tree)
        XCTAssertFalse(result.succeeded)
        XCTAssertEqual(result.damagedBlobs.map(\.blob), [last.entry.id], "only the chunk past the cut")
        let original = try Disk.read(victim)
        let restored = try Disk.read(f.restored(victim))
        var offset = 0
        for location in locations {
            let range = offset..<offset + Int(location.entry.rawLength)
            if location.entry.id != last.entry.id {
                XCTAssertTrue(restored[range].elementsEqual(original[range]), "chunk at \(offset) restored")
            }
            offset += Int(location.entry.rawLength)
        }
    }

    // A blob that is in no index (its pack and index files gone) is reported for the file that needs it.
    func testBlobMissingFromIndexIsReported() throws {
        let f = try BackupFixture()
        let src = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(src)
        let first = PathBytes.join(src, Disk.bytes("first.bin"))
        try Disk.write(first, seededBytes(count: 40_000, seed: 30))
        let firstBackup = try f.backup([f.source("src")])
        let lost = try XCTUnwrap(try f.snapshotEntries(firstBackup.snapshot.tree)[first]).content
        let packsOfLost = Set(try lost.map { try XCTUnwrap(f.repository.index.lookup($0)).pack })
        let indexFilesOfFirst = try f.backend.list(.index)

        let second = PathBytes.join(src, Disk.bytes("second.bin"))
        try Disk.write(second, seededBytes(count: 40_000, seed: 31))
        let secondBackup = try f.backup([f.source("src")])
        // Drop what the first backup wrote: its data pack and index file (the second backup's trees live elsewhere).
        for pack in packsOfLost { try f.backend.delete(FileName(.data, pack.hex)) }
        for info in indexFilesOfFirst { try f.backend.delete(info.file) }
        XCTAssertThrowsError(try f.restore(firstBackup.snapshot.tree), "the first snapshot's trees are gone too")

        let result = try f.restore(secondBackup.snapshot.tree)
        XCTAssertFalse(result.succeeded)
        // The first missing chunk must be reported; later ones may be too (their offsets are unknown without it).
        XCTAssertTrue(result.damagedBlobs.contains { $0.blob == lost[0] }, "\(result.damagedBlobs)")
        XCTAssertTrue(Set(result.damagedBlobs.map(\.blob)).isSubset(of: Set(lost)), "\(result.damagedBlobs)")
        XCTAssertTrue(result.damagedBlobs.allSatisfy { $0.files == [PathBytes.display(first)] })
        XCTAssertEqual(try Disk.read(f.restored(second)), try Disk.read(second))
    }

    // A pack that cannot be read (a storage error, not damage) is named once, not once per
    // blob; the files it holds are restored with holes, and a restore once it can be read
    // fills them in.
    func testUnreadablePackIsNamedOnceAndARestoreLaterFillsItIn() throws {
        let (f, victim, backup, node) = try backUpOneFile(seed: 40)
        let packs = Set(try node.content.map { try XCTUnwrap(f.repository.index.lookup($0)).pack })
        XCTAssertEqual(packs.count, 1)
        XCTAssertGreaterThan(node.content.count, 2)

        final class Refusing: ForwardingBackend, @unchecked Sendable {
            let refused: FileName
            init(_ base: Backend, refusing refused: FileName) { self.refused = refused; super.init(base) }
            override func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
                guard file != refused else {
                    throw StorageError.permanent(operation: "read", file: file, location: location, detail: "Permission denied")
                }
                return try super.read(file, range: range)
            }
        }
        let pack = try XCTUnwrap(packs.first)
        let refusing = Refusing(LocalBackend(root: f.repositoryDirectory.path), refusing: FileName(.data, pack.hex))
        let repository = try Repository.open(backend: refusing, password: testPassword)
        try repository.loadIndex()
        var options = RestoreOptions(target: f.targetDirectory.path)
        options.workers = 2
        let warnings = Mutex<[String]>([])
        let result = try Restorer(repository: repository, tree: backup.snapshot.tree, options: options) { message in
            warnings.withLock { $0.append(message) }
        }.run()
        XCTAssertFalse(result.succeeded)
        XCTAssertEqual(result.unreadablePacks, [pack])
        XCTAssertEqual(Set(result.damagedBlobs.map(\.blob)), Set(node.content))
        XCTAssertTrue(result.damagedBlobs.allSatisfy { $0.reason.hasPrefix("pack \(pack.short) could not be read: ") }, "\(result.damagedBlobs)")
        let lines = warnings.withLock { $0 }
        XCTAssertEqual(lines.count, 1, "\(lines)")
        XCTAssertTrue(lines.first?.contains("\(node.content.count) blobs of it could not be restored, affected: \(PathBytes.display(victim))") == true, "\(lines)")

        let again = try f.restore(backup.snapshot.tree)
        XCTAssertTrue(again.succeeded)
        XCTAssertEqual(again.updated, 1)
        XCTAssertTrue(try Disk.read(f.restored(victim)) == (try Disk.read(victim)))
    }
}
