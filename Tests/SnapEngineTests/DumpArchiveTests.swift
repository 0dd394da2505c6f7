@testable import SnapEngine
import Foundation
import SnapCore
import SnapRepository
import SnapTestSupport
import XCTest

/// `snap dump` of a folder as zip and as tar with sparse members, extracted by real tools
/// and compared with what `snap restore` writes.
final class DumpArchiveTests: XCTestCase {
    private func dump(_ f: BackupFixture, _ tree: BlobID, _ path: [UInt8], format: ArchiveFormat, to file: String) throws -> [String] {
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: file))
        defer { try? handle.close() }
        var skipped: [String] = []
        try SnapshotDump(repository: f.repository).dump(path, in: tree, format: format,
                                                        skipped: { skipped.append("\(PathBytes.display($0)) \($1)") }) {
            handle.write(Data($0))
        }
        return skipped
    }

    private func extract(_ command: String, into target: String) throws {
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let result = try runTool("/bin/sh", ["-c", command.replacingOccurrences(of: "%@", with: target)])
        XCTAssertEqual(result.status, 0, command)
    }

    // The sample tree as zip: unzip and bsdtar (from a pipe) extract the same file contents,
    // modes, times (seconds), links and folders as restore; the fifo is reported and left out;
    // the hard link's second name is a copy.
    func testZipExtractsToWhatRestoreWrites() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try SampleTree.build(at: source)
        let backup = try f.backup([f.source("src")])
        XCTAssertTrue(try f.restore(backup.snapshot.tree).succeeded)
        var expected = try Disk.listing(f.restored(source))
        expected[Disk.bytes("fifo")] = nil
        let archive = f.targetDirectory.appending("dump.zip")
        let skipped = try dump(f, backup.snapshot.tree, source, format: .zip, to: archive)
        XCTAssertEqual(skipped, ["\(PathBytes.display(source))/fifo fifo"])

        var readers: [(String, String)] = []
        if toolInstalled("/usr/bin/unzip") { readers.append(("unzip", "/usr/bin/unzip -q '\(archive)' -d '%@'")) }
        if toolInstalled("/usr/bin/bsdtar") { readers.append(("bsdtar", "cat '\(archive)' | /usr/bin/bsdtar -x -f - -C '%@'")) }
        if readers.isEmpty { throw XCTSkip("neither unzip nor bsdtar is installed") }
        for (reader, command) in readers {
            let target = f.targetDirectory.appending(reader)
            try extract(command, into: target)
            var got = try Disk.listing(Disk.bytes(target) + source), want = expected
            if reader == "unzip" {
                // Info-ZIP unzip 6.0 drops the byte 0xff from names, also from archives its own
                // zip wrote; bsdtar keeps them.
                got = got.filter { String(validating: $0.key, as: UTF8.self) != nil }
                want = want.filter { String(validating: $0.key, as: UTF8.self) != nil }
            }
            XCTAssertEqual(Set(got.keys), Set(want.keys), reader)
            for (path, want) in want {
                guard let have = got[path] else { continue }
                let name = "\(reader): \(PathBytes.display(path))"
                XCTAssertEqual(have.kind, want.kind, name)
                if case .symlink = want.kind { continue }  // neither sets a link's own mode or time
                XCTAssertEqual(have.mode, want.mode, name)
                if case .file = want.kind { XCTAssertEqual(have.mtime.seconds, want.mtime.seconds, name) }
            }
        }
    }

    // A folder named with a trailing slash (restic's `dump latest /home/ann/`) is the same
    // folder: each entry once, the folder itself included.
    func testTrailingSlashNamesTheSameFolder() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try SampleTree.build(at: source)
        let backup = try f.backup([f.source("src")])
        func members(_ path: [UInt8]) throws -> [String] {
            let archive = f.targetDirectory.appending("names-\(path.count).tar")
            _ = try dump(f, backup.snapshot.tree, path, format: .tar, to: archive)
            return try runTool("/bin/tar", ["-t", "-f", archive]).stdout.split(separator: "\n").map(String.init)
        }
        let plain = try members(source)
        XCTAssertEqual(try members(source + Disk.bytes("//")), plain)
        XCTAssertEqual(Set(plain).count, plain.count, "no entry twice")
    }

    // In tar, the further name of a hard-linked file is a link member naming the first, and a
    // file with one link is a plain member (only names a link may point to are remembered).
    func testTarKeepsHardLinksAsLinks() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("links"))
        try Disk.mkdir(source)
        try Disk.write(PathBytes.join(source, Disk.bytes("a")), Array("shared\n".utf8))
        try Disk.write(PathBytes.join(source, Disk.bytes("single")), Array("one\n".utf8))
        XCTAssertEqual(link(f.source("links/a"), f.source("links/b")), 0)
        let backup = try f.backup([f.source("links")])
        let archive = f.targetDirectory.appending("links.tar")
        _ = try dump(f, backup.snapshot.tree, source, format: .tar, to: archive)
        let listing = try runTool("/bin/tar", ["-tvf", archive])
        XCTAssertEqual(listing.status, 0)
        let lines = listing.stdout.split(separator: "\n").map(String.init)
        let name = String(PathBytes.display(source).dropFirst())
        XCTAssertTrue(lines.contains { $0.hasPrefix("h") && $0.hasSuffix("\(name)/b link to \(name)/a") }, listing.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("-") && $0.hasSuffix("\(name)/a") }, listing.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("-") && $0.hasSuffix("\(name)/single") }, listing.stdout)
    }

    // A file with 8 MiB of zeros inside and 4 MiB at the end, and a file of zeros only: GNU
    // tar and bsdtar extract the same bytes as holes (far fewer blocks than the size).
    func testSparseTarExtractsWithHoles() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("sparse"))
        try Disk.mkdir(source)
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let data = seededBytes(count: 100_000, seed: 5)
        let holey = data + Array(repeating: zeros, count: 8).joined() + data + Array(repeating: zeros, count: 4).joined()
        try Disk.write(PathBytes.join(source, Disk.bytes("holey")), holey)
        try Disk.write(PathBytes.join(source, Disk.bytes("zeros")), zeros)
        try Disk.write(PathBytes.join(source, Disk.bytes("plain")), data)
        let backup = try f.backup([f.source("sparse")])
        let archive = f.targetDirectory.appending("dump.tar")
        XCTAssertEqual(try dump(f, backup.snapshot.tree, source, format: .tar, to: archive), [])
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: archive)[.size] as? Int)
        XCTAssertLessThan(size, 1 << 20, "the zeros are not in the archive")

        var readers = [("gnutar", "/bin/tar -x -f '\(archive)' -C '%@'")]
        if toolInstalled("/usr/bin/bsdtar") { readers.append(("bsdtar", "/usr/bin/bsdtar -x -f '\(archive)' -C '%@'")) }
        for (reader, command) in readers {
            let target = f.targetDirectory.appending(reader)
            try extract(command, into: target)
            let folder = Disk.bytes(target) + source
            XCTAssertEqual(try Disk.names(folder).map(PathBytes.display), ["holey", "plain", "zeros"], reader)
            for (name, content) in [("holey", holey), ("zeros", zeros), ("plain", data)] {
                let path = PathBytes.join(folder, Disk.bytes(name))
                XCTAssertTrue(sameBytes(try Disk.read(path), content), "\(reader): \(name)")
                XCTAssertEqual(try Disk.lstat(path).st_mtim.tv_sec, try Disk.lstat(PathBytes.join(source, Disk.bytes(name))).st_mtim.tv_sec)
            }
            let allocated = { (name: String) in Int(try Disk.lstat(PathBytes.join(folder, Disk.bytes(name))).st_blocks) * 512 }
            XCTAssertLessThan(try allocated("holey"), holey.count - 8 << 20, "\(reader): holey has holes")
            XCTAssertLessThan(try allocated("zeros"), zeros.count / 2, "\(reader): zeros is a hole")
        }
    }

    // The hole rule: only blobs that repeat within the file and are all zeros make holes;
    // adjacent ones merge; holes shrink to 512-byte boundaries; the rest is data, and the
    // zero edges cut off the holes come out as zeros.
    func testHoleRule() throws {
        func id(_ n: UInt64) -> BlobID { BlobID(raw: RawID(w0: n, w1: 0, w2: 0, w3: 0)) }
        let ones = [UInt8](repeating: 1, count: 1000), nines = [UInt8](repeating: 9, count: 512)
        let blobs: [BlobID: [UInt8]] = [id(1): ones, id(2): [UInt8](repeating: 0, count: 1024),
                                        id(3): [UInt8](repeating: 0, count: 512), id(4): nines]
        var loads: [BlobID] = []
        func content(_ ids: [BlobID]) -> DumpContent {
            let size = ids.reduce(0) { $0 + UInt64(blobs[$1]?.count ?? 0) }
            return DumpContent(path: [], ids: ids, size: size, load: { loads.append($0); return blobs[$0] ?? [] },
                               length: { blobs[$0]?.count })
        }
        // At 0, 1000, 2024, 3048, 3560, 4072, 5096; 5608 bytes. Zero runs 1000..<3048 and 4072..<5096.
        let file = content([id(1), id(2), id(2), id(4), id(3), id(2), id(4)])
        let layout = try XCTUnwrap(try file.sparseLayout())
        XCTAssertEqual(layout.holes, [1024..<2560, 4096..<4608], "id 3 occurs once: data; id 4 repeats but is not zeros")
        XCTAssertEqual(layout.dataRegions, [0..<1024, 2560..<4096, 4608..<5608])
        XCTAssertEqual(Set(loads), [id(2), id(4)], "only repeated blobs are loaded to look")
        loads = []
        var written: [UInt8] = []
        try file.forEachData(layout) { written += $0 }
        let zeros = { (n: Int) in [UInt8](repeating: 0, count: n) }
        XCTAssertEqual(written, ones + zeros(24) + zeros(488) + nines + zeros(512) + zeros(512) + nines)
        XCTAssertEqual(loads, [id(1), id(4), id(3), id(4)], "the zero blob is not loaded again")
        XCTAssertNil(try content([id(1), id(3), id(4)]).sparseLayout(), "nothing repeats")
        XCTAssertNil(try content([id(4), id(4)]).sparseLayout(), "repeats, but not zeros")
        XCTAssertEqual(try content([id(1), id(2), id(2)]).sparseLayout()?.holes, [1024..<3048], "a hole at the end keeps its end")
        XCTAssertEqual(try content([id(2), id(2)]).sparseLayout()?.dataRegions, [], "all hole")
    }

    // The sparse map as the GNU tar manual gives it: the count, then offset and length lines,
    // a zero-length region at the real size when the file ends in a hole, padded to a block.
    func testSparseMapBlock() throws {
        var stream: [UInt8] = []
        let tar = TarWriter { stream += $0 }
        let entry = TarWriter.Entry(path: Array("a/b/f".utf8), type: .file, mode: 0o644, uid: 0, gid: 0, user: "", group: "",
                                    size: 10_000, mtimeSeconds: 1, mtimeNanoseconds: 0)
        try tar.beginSparse(entry, regions: [0..<100, 5000..<5100])
        let pax = String(decoding: stream[512..<1024], as: UTF8.self)
        for record in ["GNU.sparse.major=1\n", "GNU.sparse.minor=0\n", "GNU.sparse.name=a/b/f\n", "GNU.sparse.realsize=10000\n",
                       "path=a/b/GNUSparseFile.0/f\n"] {
            XCTAssertTrue(pax.contains(record), record)
        }
        let header = Array(stream[1024..<1536])
        XCTAssertEqual(String(decoding: header[0..<23], as: UTF8.self), "a/b/GNUSparseFile.0/f\0\0")
        XCTAssertEqual(String(decoding: header[124..<135], as: UTF8.self), String(512 + 200, radix: 8).leftPadded(11))
        XCTAssertEqual(stream.count, 2048)
        let map = "3\n0\n100\n5000\n100\n10000\n0\n"
        XCTAssertEqual(Array(stream[1536...]), Array(map.utf8) + [UInt8](repeating: 0, count: 512 - map.utf8.count))
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
