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

    // A backed-up path that a pattern matches is left out, as restic leaves it out. Excludes
    // that leave out every path given leave nothing to back up: an error, and no snapshot
    // (restic: "snapshot is empty"); one path kept is enough.
    func testExcludedSourcePathIsLeftOutAndNothingLeftIsAnError() throws {
        let f = try BackupFixture()
        _ = try build(f)
        for patterns in [["*"], [f.source("src")], ["src"]] {
            XCTAssertThrowsError(try f.backup([f.source("src")], excludes: patterns), "\(patterns)") { error in
                guard case EngineError.nothingToBackUp = error else { return XCTFail("\(error)") }
            }
        }
        XCTAssertEqual(try f.backend.list(.snapshots).count, 0)
        try Disk.write(f.sourcePath(Disk.bytes("other.txt")), [9])
        let kept = try f.backup([f.source("src"), f.source("other.txt")], excludes: ["src"])
        let entries = try f.snapshotEntries(kept.snapshot.tree)
        XCTAssertNotNil(entries[f.sourcePath(Disk.bytes("other.txt"))])
        XCTAssertTrue(entries.keys.allSatisfy { !PathBytes.display($0).hasSuffix("/src") })
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

    private func backup(_ f: BackupFixture, _ exclusions: BackupExclusions) throws -> BackupResult {
        var options = BackupOptions(paths: [f.source("src")], hostname: "test-host", username: "tester")
        options.exclusions = exclusions
        options.workers = 2
        return try Archiver(repository: f.repository, options: options).run()
    }

    // restic's rules: a relative pattern with '/' matches consecutive components anywhere
    // (issue #18's 'py311/config-...' case); a folder it matches is left out with all below.
    func testRelativePatternWithSlashMatchesAtAnyDepth() throws {
        let f = try BackupFixture()
        let src = try build(f)
        let result = try f.backup([f.source("src")], excludes: ["deep/skip", "src/skip"])
        XCTAssertEqual(try relativeEntries(f, result, below: src),
                       ["keep.txt", "a.tmp", "deep", "deep/b.tmp", "deep/keep2.txt", "cache.tmp", "cache.tmp/kept-out.txt"])
        XCTAssertEqual(result.unmatchedPatterns, [])
    }

    // A negation re-includes what an earlier pattern excluded; the last match decides.
    func testNegationAndCaseInsensitivePatterns() throws {
        let f = try BackupFixture()
        let src = try build(f)
        var exclusions = BackupExclusions()
        exclusions.patterns = PatternRules(patterns: ["*.tmp", "!cache.tmp", "never-there"], insensitivePatterns: ["KEEP*.TXT"])
        let result = try backup(f, exclusions)
        XCTAssertEqual(try relativeEntries(f, result, below: src),
                       ["deep", "deep/skip", "skip", "skip/inner.txt", "cache.tmp", "cache.tmp/kept-out.txt"])
        XCTAssertEqual(result.unmatchedPatterns.map(\.pattern), ["never-there"])
    }

    // --exclude-caches and --exclude-if-present keep the tag file and drop the rest of its folder;
    // a tag without the required header excludes nothing.
    func testTagFilesAndSizeLimit() throws {
        let f = try BackupFixture()
        let src = try build(f)
        try Disk.write(PathBytes.join(PathBytes.join(src, Disk.bytes("deep")), Disk.bytes("CACHEDIR.TAG")),
                       Array("Signature: 8a477f597d28d172789f06886806bc55\n# a cache".utf8))
        try Disk.write(PathBytes.join(PathBytes.join(src, Disk.bytes("skip")), Disk.bytes("CACHEDIR.TAG")), Array("Signature: wrong".utf8))
        try Disk.write(PathBytes.join(PathBytes.join(src, Disk.bytes("cache.tmp")), Disk.bytes(".nobackup")), [])
        try Disk.write(PathBytes.join(src, Disk.bytes("big.bin")), [UInt8](repeating: 7, count: 2048))
        var exclusions = BackupExclusions()
        exclusions.tagFiles = [.cacheDirectory, try TagFileRule(spec: ".nobackup")]
        exclusions.largerThan = 1024
        let result = try backup(f, exclusions)
        XCTAssertEqual(try relativeEntries(f, result, below: src),
                       ["keep.txt", "a.tmp", "deep", "deep/CACHEDIR.TAG", "skip", "skip/inner.txt", "skip/CACHEDIR.TAG",
                        "cache.tmp", "cache.tmp/.nobackup"])
    }

    // A bad pattern stops the backup before anything is written.
    func testBadPatternThrows() throws {
        let f = try BackupFixture()
        _ = try build(f)
        XCTAssertThrowsError(try f.backup([f.source("src")], excludes: ["[x"])) { XCTAssertTrue($0 is FilterPatternError) }
        XCTAssertEqual(try SnapshotStore.all(in: f.repository).count, 0)
    }
}
