@testable import SnapEngine
import Foundation
import SnapCore
import SnapRepository
import SnapStorage
import SnapTestSupport
import XCTest

/// `snap dump` reads a folder's content by windows of coalesced ranges (`SequentialBlobs`),
/// not one request per blob, and the archive still holds every file whole.
final class DumpReadAheadTests: XCTestCase {
    func testFolderDumpReadsByWindowsAndHoldsEveryFile() throws {
        let work = try TemporaryDirectory(prefix: "snap-dump-ahead")
        defer { work.remove() }
        let source = work.appending("src")
        for folder in 0..<30 {
            try PruneTesting.writeFiles("\(source)/d\(folder)", count: 10, seed: UInt64(200 + folder), size: 2_000)
        }
        // Larger than a shared window's files: read by windows of its own.
        try Data(seededBytes(count: 9 << 20, seed: 5)).write(to: URL(fileURLWithPath: "\(source)/big.bin"))
        XCTAssertEqual(link("\(source)/d0/file-0.bin", "\(source)/second-name"), 0)

        let memory = MemoryBackend()
        let writer = try makeEngineRepository(on: memory)
        let snapshot = try PruneTesting.backup(writer, source, time: "2024-01-01T00:00:00Z")
        let counting = CountingBackend(memory)
        let repository = try Repository.open(backend: counting, password: testPassword)
        try repository.loadIndex()
        let tree = try SnapshotStore.load(snapshot, from: repository).tree

        let archive = work.appending("dump.tar")
        XCTAssertTrue(FileManager.default.createFile(atPath: archive, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: archive))
        let before = counting.counts[.read]
        try SnapshotDump(repository: repository, readWorkers: 3).dump(Array(source.utf8), in: tree, format: .tar) {
            handle.write(Data($0))
        }
        try handle.close()
        let reads = counting.counts[.read] - before
        let packs = try memory.list(.data).count
        // One read per tree (31 folders) and a few per pack; blob by blob it would be over 330.
        XCTAssertLessThanOrEqual(reads, 31 + 2 * packs, "\(reads) reads for \(packs) packs")

        let target = work.appending("out")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        XCTAssertEqual(try runTool("/bin/tar", ["-x", "-f", archive, "-C", target]).status, 0)
        var files = 0
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(atPath: source))
        for case let relative as String in enumerator {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(source)/\(relative)", isDirectory: &isFolder), !isFolder.boolValue else { continue }
            let extracted = "\(target)\(source)/\(relative)"
            XCTAssertEqual(FileManager.default.contents(atPath: extracted), FileManager.default.contents(atPath: "\(source)/\(relative)"), relative)
            files += 1
        }
        XCTAssertEqual(files, 302)
    }
}
