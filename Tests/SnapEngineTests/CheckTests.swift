import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

final class CheckTests: XCTestCase {
    // A repository after two backups is healthy, with and without reading the data, and
    // --read-data downloads every indexed pack.
    func testHealthyRepositoryPasses() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        try Disk.write(f.at("small.txt"), Array("changed\n".utf8))
        try f.backup()

        let structure = try f.check()
        XCTAssertTrue(structure.isHealthy, structure.summary)
        XCTAssertEqual(structure.findings, [])
        XCTAssertEqual(structure.statistics.snapshots, 2)
        XCTAssertGreaterThan(structure.statistics.trees, 4)
        XCTAssertEqual(structure.packsRead, [], "the structure check reads no pack in full")

        let full = try f.check(readData: .all)
        XCTAssertTrue(full.isHealthy, full.summary)
        XCTAssertEqual(Set(full.packsRead), try f.indexedPacks())
        XCTAssertGreaterThan(full.packsRead.count, 2)
    }

    // A flipped byte inside a data blob: only --read-data sees it, and names the pack, the
    // blob, both snapshots and the file's path in each.
    func testFlippedByteInDataPackIsNamedWithItsFiles() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let first = try f.backup()
        let second = try f.backup()
        let victim = f.at("docs", "nested", "medium.bin")
        let node = try XCTUnwrap(try f.entries(first.snapshot.tree)[victim])
        let blob = node.content[1]
        let location = try f.location(of: blob)
        try f.flipByte(in: location.pack, at: Int(location.entry.offset) + Int(location.entry.length) / 2)

        let structure = try f.check()
        XCTAssertTrue(structure.isHealthy, "a flipped byte inside a data blob changes no size and no tree: \(structure.summary)")

        let report = try f.check(readData: .all)
        XCTAssertFalse(report.isHealthy)
        let packFinding = try XCTUnwrap(report.findings(.packDamaged).first, report.summary)
        XCTAssertEqual(packFinding.file, "data/\(location.pack.hex)")
        XCTAssertTrue(packFinding.message.contains("does not match its name"), packFinding.message)
        XCTAssertTrue(packFinding.message.contains("1 of "), packFinding.message)
        XCTAssertEqual(report.damagedBlobs.map(\.id), [blob], report.summary)
        let damaged = try XCTUnwrap(report.damaged(blob))
        XCTAssertEqual(damaged.problem, .damaged)
        XCTAssertEqual(damaged.pack, location.pack)
        XCTAssertEqual(Set(damaged.uses), [CheckReport.Use(snapshot: first.id, path: victim), CheckReport.Use(snapshot: second.id, path: victim)])
        XCTAssertEqual(report.affectedPaths, [first.id: [victim], second.id: [victim]])
    }

    // A truncated pack is found by its size alone, and the blobs cut off are named with their files.
    func testTruncatedPackIsFoundWithoutReadingData() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let entries = try f.entries(backup.snapshot.tree)
        let node = try XCTUnwrap(entries[f.at("big-2.bin")])
        let location = try f.location(of: node.content[0])
        let repository = try f.openWithIndex()
        let size = try XCTUnwrap(repository.index.packs.first { $0.id == location.pack }).size
        try f.truncate(location.pack, to: size / 2)

        let report = try f.check()
        let finding = try XCTUnwrap(report.findings(.packSizeMismatch).first, report.summary)
        XCTAssertEqual(finding.file, "data/\(location.pack.hex)")
        XCTAssertTrue(finding.message.contains("is \(size / 2) bytes, the index says \(size)"), finding.message)
        XCTAssertEqual(report.packsRead, [location.pack], "a pack of the wrong size is read to name its damaged blobs")

        // Exactly the blobs that no longer fit in the file are damaged, and every file using one is named.
        let header = try XCTUnwrap(try PackProbe.entries(of: location.pack, in: f))
        let cut = Set(header.filter { Int($0.offset) + Int($0.length) > size / 2 }.map(\.id))
        XCTAssertFalse(cut.isEmpty)
        XCTAssertEqual(Set(report.damagedBlobs.map(\.id)), cut, report.summary)
        let expectedFiles = Set(entries.filter { !$0.value.content.filter(cut.contains).isEmpty }.map { PathBytes.display($0.key) })
        XCTAssertFalse(expectedFiles.isEmpty)
        XCTAssertEqual(Set(report.affectedPaths[backup.id, default: []].map(PathBytes.display)), expectedFiles)
    }

    // A missing pack: an error naming it, and every blob only it held is named with its files.
    func testMissingPackNamesLostBlobsAndFiles() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let entries = try f.entries(backup.snapshot.tree)
        let node = try XCTUnwrap(entries[f.at("big-3.bin")])
        let pack = try f.location(of: node.content.last!).pack
        let held = Set(try XCTUnwrap(try PackProbe.entries(of: pack, in: f)).map(\.id))
        try f.delete(pack)

        let cache = try TemporaryDirectory(prefix: "snap-check-table")
        defer { cache.remove() }
        // In memory, and by the mapped table as for a loss of over a million blobs.
        for folder in [nil, cache.path] {
            let report = try f.check(tableIn: folder, lostInTable: folder != nil)
            XCTAssertEqual(report.findings(.packMissing).map(\.file), ["data/\(pack.hex)"], report.summary)
            let referenced = held.filter { id in entries.values.contains { $0.content.contains(id) } }
            XCTAssertEqual(Set(report.damagedBlobs.map(\.id)), referenced, report.summary)
            XCTAssertTrue(report.damagedBlobs.allSatisfy { $0.problem == .packMissing && $0.pack == pack })
            let expectedFiles = Set(entries.filter { !$0.value.content.filter(held.contains).isEmpty }.map { PathBytes.display($0.key) })
            XCTAssertTrue(expectedFiles.contains(PathBytes.display(f.at("big-3.bin"))))
            XCTAssertEqual(Set(report.affectedPaths[backup.id, default: []].map(PathBytes.display)), expectedFiles)
        }
    }

    // Without index files, every referenced blob is in no index: errors naming the files, and
    // the packs that hold them are errors too (not the usual note), with the remedy.
    func testMissingIndexFilesAreErrorsNamingFiles() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let entries = try f.entries(backup.snapshot.tree)
        for info in try f.backend.list(.index) { try f.backend.delete(info.file) }

        let report = try f.check()
        XCTAssertFalse(report.isHealthy)
        XCTAssertEqual(report.statistics.packs, 0)
        XCTAssertGreaterThan(report.findings(.packUnindexedNeeded).count, 2, report.summary)
        XCTAssertEqual(report.findings(.packUnindexed), [])
        XCTAssertTrue(report.damagedBlobs.allSatisfy { $0.problem == .unindexed && !$0.isLost }, report.summary)
        let contentBlobs = Set(entries.values.flatMap(\.content))
        XCTAssertTrue(contentBlobs.isSubset(of: Set(report.damagedBlobs.map(\.id))))
        // Every file with content is named, and the trees are still walked (their blobs are in the packs).
        let files = Set(entries.filter { !$0.value.content.isEmpty }.map { PathBytes.display($0.key) })
        let affected = Set(report.affectedPaths[backup.id, default: []].map(PathBytes.display))
        XCTAssertTrue(files.isSubset(of: affected), "not named: \(files.subtracting(affected))")
    }

    // One index file lost while its packs remain: the blobs of the second backup only are unindexed.
    func testOneMissingIndexFileNamesOnlyItsBlobs() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        let indexBefore = Set(try f.backend.list(.index).map(\.file))
        try Disk.write(f.at("added.bin"), seededBytes(count: 60_000, seed: 9))
        let second = try f.backup()
        let addedNode = try XCTUnwrap(try f.entries(second.snapshot.tree)[f.at("added.bin")])
        let added = Set(try f.backend.list(.index).map(\.file)).subtracting(indexBefore)
        XCTAssertEqual(added.count, 1)
        for file in added { try f.backend.delete(file) }

        let report = try f.check()
        XCTAssertFalse(report.isHealthy)
        for blob in addedNode.content {
            XCTAssertEqual(report.damaged(blob)?.problem, .unindexed)
            XCTAssertEqual(report.usePaths(blob), [PathBytes.display(f.at("added.bin"))])
        }
        XCTAssertNil(report.affectedPaths[second.id]?.first { $0 == f.at("big-1.bin") }, "files of the first backup are intact")
    }

    // A damaged tree blob is found by the structure check; the folder it lists is named.
    func testDamagedTreeNamesTheFolder() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let nested = try XCTUnwrap(try f.entries(backup.snapshot.tree)[f.at("docs", "nested")]?.subtree)
        let location = try f.location(of: nested)
        XCTAssertEqual(location.entry.type, .tree)
        try f.flipByte(in: location.pack, at: Int(location.entry.offset) + 3)

        let report = try f.check()
        XCTAssertFalse(report.isHealthy)
        let damaged = try XCTUnwrap(report.damaged(nested), report.summary)
        XCTAssertEqual(damaged.type, .tree)
        XCTAssertEqual(damaged.problem, .damaged)
        XCTAssertEqual(damaged.pack, location.pack)
        XCTAssertEqual(damaged.uses, [CheckReport.Use(snapshot: backup.id, path: f.at("docs", "nested"))])
        XCTAssertEqual(report.damagedBlobs.count, 1, report.summary)
    }

    // A blob stored in two packs is fine; when one pack is lost, the pack is an error but the
    // blob is not, because the other copy serves it.
    func testBlobInTwoPacksSurvivesLossOfOne() throws {
        let f = try CheckFixture()
        try Disk.mkdir(f.src)
        try Disk.write(f.at("a.bin"), seededBytes(count: 50_000, seed: 7))
        let backup = try f.backup()
        let blobs = try XCTUnwrap(try f.entries(backup.snapshot.tree)[f.at("a.bin")]).content
        let original = try f.location(of: blobs[0]).pack
        // Store the same chunks again with a repository that has not loaded the index.
        let repository = try f.open()
        let saver = BlobSaver(repository: repository)
        let bytes = try Disk.read(f.at("a.bin"))
        var offset = 0
        let reader = try f.openWithIndex()
        for id in blobs {
            let length = Int(try XCTUnwrap(reader.index.lookup(id)).entry.rawLength)
            try saver.save(.data, id: id, plaintext: Array(bytes[offset..<offset + length]))
            offset += length
        }
        XCTAssertEqual(try saver.finish().packs, 1)
        let healthy = try f.check(readData: .all)
        XCTAssertTrue(healthy.isHealthy, healthy.summary)

        try f.delete(original)
        let cache = try TemporaryDirectory(prefix: "snap-check-table")
        defer { cache.remove() }
        // With the index in memory, and as a mapped table (whose one record per blob may name
        // the lost pack), the copies found by a map of the lost blobs and by the table.
        for (folder, lostInTable) in [(nil, false), (cache.path, false), (cache.path, true)] {
            let report = try f.check(readData: .all, tableIn: folder, lostInTable: lostInTable)
            XCTAssertEqual(report.findings(.packMissing).map(\.file), ["data/\(original.hex)"])
            XCTAssertEqual(report.damagedBlobs.count, 0, report.summary)
        }
        let table = try FileManager.default.subpathsOfDirectory(atPath: cache.path).filter { $0.hasSuffix("blob-index/table") }
        XCTAssertEqual(table.count, 1, "the check used a mapped table")
    }

    // A pack that no index names and no snapshot needs is a note, not an error.
    func testUnindexedPackIsOnlyANote() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        let before = Set(try f.backend.list(.index).map(\.file))
        let saver = BlobSaver(repository: try f.openWithIndex())
        let orphan = seededBytes(count: 3000, seed: 99)
        let repository = try f.open()
        try saver.save(.data, id: repository.keys.blobID(of: orphan), plaintext: orphan)
        _ = try saver.finish()
        for file in Set(try f.backend.list(.index).map(\.file)).subtracting(before) { try f.backend.delete(file) }

        let report = try f.check(readData: .all)
        XCTAssertTrue(report.isHealthy, report.summary)
        XCTAssertEqual(report.findings.map(\.kind), [.packUnindexed])
        XCTAssertEqual(report.findings.first?.severity, .info)
        XCTAssertEqual(report.statistics.unindexedPacks, 1)
    }

    // An index file that does not authenticate is an error; the packs it named look unindexed.
    func testDamagedIndexFileIsAnError() throws {
        let f = try CheckFixture()
        try f.buildSource()
        try f.backup()
        let file = try XCTUnwrap(try f.backend.list(.index).first).file
        let path = Disk.bytes(f.backend.path(of: file))
        var bytes = try Disk.read(path)
        bytes[bytes.count / 2] ^= 1
        try Disk.write(path, bytes)

        let report = try f.check()
        XCTAssertEqual(report.findings(.indexUnreadable).map(\.file), [file.description], report.summary)
        XCTAssertEqual(report.findings(.indexUnreadable).first?.severity, .error)
        XCTAssertFalse(report.isHealthy)
    }

    // An index that disagrees with a pack's header (an entry left out) is found by --read-data,
    // and the blob it left out is reported as missing with its file.
    func testIndexDisagreeingWithPackHeaderIsFound() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let node = try XCTUnwrap(try f.entries(backup.snapshot.tree)[f.at("big-3.bin")])
        let pack = try f.location(of: node.content[0]).pack
        try f.rewriteIndex(of: pack) { $0.entries.removeAll { $0.id == node.content[0] } }

        let structure = try f.check()
        XCTAssertEqual(structure.damaged(node.content[0])?.problem, .missing, structure.summary)
        XCTAssertEqual(structure.usePaths(node.content[0]), [PathBytes.display(f.at("big-3.bin"))])
        XCTAssertEqual(structure.findings(.packHeaderMismatch), [])

        let full = try f.check(readData: .all)
        let mismatch = try XCTUnwrap(full.findings(.packHeaderMismatch).first, full.summary)
        XCTAssertEqual(mismatch.file, "data/\(pack.hex)")
        XCTAssertTrue(mismatch.message.contains("1 only in the header, 0 only in the index"), mismatch.message)
    }

    // An index that gives a pack the wrong salt is found by --read-data (the salt the pack's
    // authenticated header was sealed under differs), and every blob of that pack is damaged.
    func testIndexWithTheWrongSaltIsFound() throws {
        let f = try CheckFixture()
        try f.buildSource()
        let backup = try f.backup()
        let node = try XCTUnwrap(try f.entries(backup.snapshot.tree)[f.at("big-3.bin")])
        let pack = try f.location(of: node.content[0]).pack
        var entries = 0
        try f.rewriteIndex(of: pack) {
            $0.salt[0] ^= 1
            entries = $0.entries.count
        }

        let full = try f.check(readData: .all)
        let mismatch = try XCTUnwrap(full.findings(.packHeaderMismatch).first, full.summary)
        XCTAssertEqual(mismatch.file, "data/\(pack.hex)")
        XCTAssertTrue(mismatch.message.contains("different salt"), mismatch.message)
        XCTAssertEqual(full.damaged(node.content[0])?.reason.contains("wrong salt"), true, full.summary)
        XCTAssertEqual(full.damagedBlobs.filter { $0.reason.contains("wrong salt") }.count, entries)
    }
}

/// Reads a pack's header directly, as the truth to compare reports with.
enum PackProbe {
    static func entries(of pack: PackID, in f: CheckFixture) throws -> [PackEntry]? {
        let repository = try f.open()
        guard let size = try? f.backend.stat(FileName(.data, pack.hex)).size else { return nil }
        if let header = try? PackFormat.readHeader(of: pack, size: size, from: f.backend, keys: repository.keys) { return header.entries }
        // The header may be gone (a truncated pack): the index still has the entries.
        try repository.loadIndex()
        var entries: [PackEntry] = []
        for info in try f.backend.list(.index) {
            let file = try repository.loadIndexFile(try XCTUnwrap(IndexID(hex: info.file.name)))
            entries += file.packs.filter { $0.id == pack }.flatMap(\.entries)
        }
        return entries
    }
}
