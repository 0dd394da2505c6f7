import XCTest
import SnapEngine

final class BackupExcludeTests: XCTestCase {
    private func build(_ f: BackupFixture) throws -> [UInt8] {
        let src = f.sourcePath(Disk.bytes("src"))
        func at(_ parts: String...) -> [UInt8] { parts.reduce(src) { PathBytes.join($0, Disk.bytes($1)) } }
        try Disk.mkdir(src)
        try Disk.write(at("keep.txt"), [1])
        try Disk.write(at("a.tmp"), [2])
        try Disk.mkdir(at("deep"))
        try Disk.write(at("deep", "b.tmp"), [3])
        try Disk.write(at("deep", "keep2.txt"), [4])
        try Disk.write(at("deep", "skip"), [5])
        try Disk.mkdir(at("skip"))
        try Disk.write(at("skip", "inner.txt"), [6])
        try Disk.mkdir(at("cache.tmp"))
        try Disk.write(at("cache.tmp", "kept-out.txt"), [7])
        return src
    }

    /// Snapshot paths below `src`, relative to it.
    private func relativeEntries(_ f: BackupFixture, _ result: BackupResult, below src: [UInt8]) throws -> Set<String> {
        let prefix = src + [PathBytes.slash]
        return Set(try f.snapshotEntries(result.snapshot.tree).keys.filter { $0.starts(with: prefix) }
            .map { PathBytes.display(Array($0.dropFirst(prefix.count))) })
    }

    // A name pattern leaves out matching entries at any depth (with everything below); a path pattern only that path.
    func testExcludesByNameAndByPath() throws {
        for pathPattern in ["/skip", "/skip/"] {
            let f = try BackupFixture()
            let src = try build(f)
            let excludes = ["*.tmp", f.source("src") + pathPattern]
            let result = try f.backup([f.source("src")], excludes: excludes)
            XCTAssertEqual(result.snapshot.excludes, excludes)
            XCTAssertEqual(try relativeEntries(f, result, below: src), ["keep.txt", "deep", "deep/keep2.txt", "deep/skip"], pathPattern)
            XCTAssertTrue(try f.restore(result.snapshot.tree).succeeded)
            XCTAssertEqual(Set(try Disk.listing(f.restored(src)).keys.map(PathBytes.display)),
                           ["keep.txt", "deep", "deep/keep2.txt", "deep/skip"], pathPattern)
        }
    }

    // Without excludes every entry is backed up (the fixture itself is complete).
    func testNoExcludesKeepsEverything() throws {
        let f = try BackupFixture()
        let src = try build(f)
        let result = try f.backup([f.source("src")])
        XCTAssertEqual(try relativeEntries(f, result, below: src),
                       ["keep.txt", "a.tmp", "deep", "deep/b.tmp", "deep/keep2.txt", "deep/skip", "skip", "skip/inner.txt",
                        "cache.tmp", "cache.tmp/kept-out.txt"])
    }
}
