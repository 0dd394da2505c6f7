import CPosix
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import Synchronization
import XCTest

/// The mount's engine, without FUSE: layout, metadata, reads, `at/`, new snapshots, damage.
final class SnapshotFileSystemTests: XCTestCase {
    private var source: TemporaryDirectory!
    private var memory: MemoryBackend!
    private var repository: Repository!
    private var big: [UInt8] = []

    override func setUpWithError() throws {
        source = try TemporaryDirectory(prefix: "snap-mountfs")
        memory = MemoryBackend()
        repository = try makeEngineRepository(on: memory)
        try FileManager.default.createDirectory(atPath: source.appending("dir/sub"), withIntermediateDirectories: true)
        var state: UInt64 = 7
        big = (0..<700_000).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        try Data(big).write(to: URL(fileURLWithPath: source.appending("dir/big.bin")))
        try "hello\n".write(toFile: source.appending("dir/sub/hello.txt"), atomically: false, encoding: .utf8)
        XCTAssertEqual(link(source.appending("dir/big.bin"), source.appending("dir/sub/big-link")), 0)
        XCTAssertEqual(symlink("sub/hello.txt", source.appending("dir/to-hello")), 0)
        XCTAssertEqual(chmod(source.appending("dir/sub/hello.txt"), 0o640), 0)
        XCTAssertEqual(setxattr(source.appending("dir/sub/hello.txt"), "user.colour", "blue", 4, 0), 0)
        let odd = Array(source.appending("dir/").utf8) + [0x6c, 0xe9, 0xff]
        try Disk.write(odd, [])
        var times = [timespec(tv_sec: 1_600_000_000, tv_nsec: 123_456_789), timespec(tv_sec: 1_600_000_000, tv_nsec: 123_456_789)]
        XCTAssertEqual(utimensat(AT_FDCWD, source.appending("dir/sub/hello.txt"), &times, 0), 0)
    }

    override func tearDown() { source.remove() }

    @discardableResult
    private func backup(_ time: String, host: String = "test-host", tags: [String] = [], paths: [String]? = nil) throws -> SnapshotID {
        var options = BackupOptions(paths: paths ?? [source.path], hostname: host, username: "tester")
        options.time = RFC3339.parse(time)
        options.tags = tags
        options.workers = 2
        return try Archiver(repository: repository, options: options).run().id
    }

    private func mount(_ configure: (inout SnapshotFileSystem.Options) -> Void = { _ in },
                       warn: @escaping @Sendable (String) -> Void = { _ in }) throws -> SnapshotFileSystem {
        let reopened = try Repository.open(backend: memory, password: testPassword)
        try reopened.loadIndex()
        var options = SnapshotFileSystem.Options()
        configure(&options)
        return SnapshotFileSystem(repository: reopened, options: options, warn: warn)
    }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    private func names(_ fs: SnapshotFileSystem, _ path: String) throws -> [String] {
        try fs.list(bytes(path)).map { String(decoding: $0.name, as: UTF8.self) }
    }

    /// Reads a whole file through `open`/`read`, in pieces of `piece` bytes.
    private func readAll(_ fs: SnapshotFileSystem, _ path: String, piece: Int = 65536) throws -> [UInt8] {
        let handle = try fs.open(bytes(path))
        defer { fs.close(handle) }
        var out: [UInt8] = [], buffer = [UInt8](repeating: 0, count: piece)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try fs.read(handle, at: UInt64(out.count), into: $0) }
            if n == 0 { return out }
            out += buffer[..<n]
        }
    }

    func testLayoutNamesSnapshotsByTimeIDHostAndTag() throws {
        let first = try backup("2024-05-01T12:00:00Z", tags: ["daily"])
        let second = try backup("2024-05-02T08:30:00Z", host: "other")
        let fs = try mount()
        XCTAssertEqual(try names(fs, "/"), ["at", "hosts", "ids", "snapshots", "tags"])
        XCTAssertEqual(try names(fs, "/snapshots"), ["2024-05-01T12:00:00Z", "2024-05-02T08:30:00Z", "latest"])
        XCTAssertEqual(try fs.linkTarget(bytes("/snapshots/latest")), bytes("2024-05-02T08:30:00Z"))
        XCTAssertEqual(try fs.attributes(bytes("/snapshots/latest")).type, .symlink)
        XCTAssertEqual(try names(fs, "/ids"), [first.short, second.short].sorted())
        XCTAssertEqual(try names(fs, "/hosts"), ["other", "test-host"])
        XCTAssertEqual(try names(fs, "/hosts/test-host"), ["2024-05-01T12:00:00Z", "latest"])
        XCTAssertEqual(try fs.linkTarget(bytes("/hosts/other/latest")), bytes("2024-05-02T08:30:00Z"))
        XCTAssertEqual(try names(fs, "/tags"), ["daily"])
        XCTAssertEqual(try names(fs, "/tags/daily"), ["2024-05-01T12:00:00Z", "latest"])
        XCTAssertEqual(try names(fs, "/at"), [])
        let root = try fs.attributes(bytes("/snapshots/2024-05-01T12:00:00Z"))
        XCTAssertEqual(root.type, .directory)
        XCTAssertEqual(root.mtime, RFC3339.parse("2024-05-01T12:00:00Z"))
        // The same snapshot by ID, by host and by tag holds the same files.
        let inside = source.path + "/dir/sub/hello.txt"
        for prefix in ["/ids/\(first.short)", "/hosts/test-host/2024-05-01T12:00:00Z", "/tags/daily/2024-05-01T12:00:00Z"] {
            XCTAssertEqual(try readAll(fs, prefix + inside), bytes("hello\n"), prefix)
        }
        XCTAssertThrowsError(try fs.attributes(bytes("/snapshots/2023-01-01T00:00:00Z"))) { XCTAssertEqual($0 as? MountError, .notFound(path: "/snapshots/2023-01-01T00:00:00Z")) }
        XCTAssertThrowsError(try fs.attributes(bytes("/nothing")))
        XCTAssertThrowsError(try fs.list(bytes("/snapshots/latest")))
    }

    func testTimeTemplateAndSameSecondSnapshots() throws {
        try backup("2024-05-01T12:00:00.100Z")
        try backup("2024-05-01T12:00:00.900Z")
        let fs = try mount { $0.timeTemplate = "%Y/%m/%d %H:%M" }
        XCTAssertEqual(try names(fs, "/snapshots"), ["2024-05-01 12:00", "2024-05-01 12:00-1", "latest"].map { $0.replacingOccurrences(of: "/", with: "-") })
    }

    // A template without `%` is a Go layout, as restic's `--time-template` takes it.
    func testTimeTemplateTakesResticsGoLayouts() throws {
        try backup("2024-05-01T08:03:09Z")
        for (layout, expected) in [("2006-01-02T15:04:05Z07:00", "2024-05-01T08:03:09Z"), ("Mon Jan _2 15:04 2006", "Wed May  1 08:03 2024"),
                                   ("02.01.06 3:04PM MST", "01.05.24 8:03AM UTC"), ("20060102-150405 -0700", "20240501-080309 +0000")] {
            let fs = try mount { $0.timeTemplate = layout }
            XCTAssertEqual(try names(fs, "/snapshots"), [expected, "latest"], layout)
        }
    }

    func testEntriesShowStoredMetadata() throws {
        try backup("2024-05-01T12:00:00Z")
        let fs = try mount()
        let dir = "/snapshots/latest-target".replacingOccurrences(of: "latest-target", with: "2024-05-01T12:00:00Z") + source.path + "/dir"
        let listed = try fs.list(bytes(dir))
        XCTAssertEqual(listed.map(\.name), [bytes("big.bin"), [0x6c, 0xe9, 0xff], bytes("sub"), bytes("to-hello")])
        var st = stat()
        XCTAssertEqual(lstat(source.appending("dir/sub/hello.txt"), &st), 0)
        let hello = try fs.attributes(bytes(dir + "/sub/hello.txt"))
        XCTAssertEqual(hello.type, .file)
        XCTAssertEqual(hello.mode, 0o640)
        XCTAssertEqual(hello.size, 6)
        XCTAssertEqual(hello.uid, st.st_uid)
        XCTAssertEqual(hello.gid, st.st_gid)
        XCTAssertEqual(hello.mtime, Timestamp(seconds: 1_600_000_000, nanoseconds: 123_456_789))
        XCTAssertEqual(try fs.extendedAttributes(bytes(dir + "/sub/hello.txt")), [ExtendedAttribute(name: bytes("user.colour"), value: bytes("blue"))])
        let link = try fs.attributes(bytes(dir + "/to-hello"))
        XCTAssertEqual(link.type, .symlink)
        XCTAssertEqual(link.size, UInt64("sub/hello.txt".utf8.count))
        XCTAssertEqual(try fs.linkTarget(bytes(dir + "/to-hello")), bytes("sub/hello.txt"))
        XCTAssertThrowsError(try fs.linkTarget(bytes(dir + "/big.bin"))) { XCTAssertEqual($0 as? MountError, .wrongType(path: dir + "/big.bin")) }
        // Both names of the hard-linked file: one inode, two links, a regular file each.
        let a = try fs.attributes(bytes(dir + "/big.bin")), b = try fs.attributes(bytes(dir + "/sub/big-link"))
        XCTAssertEqual(a.inode, b.inode)
        XCTAssertEqual(b.type, .file)
        XCTAssertEqual(a.links, 2)
        XCTAssertEqual(b.links, 2)
        XCTAssertNotEqual(a.inode, hello.inode)
        // Listing gives the same attributes as a lookup.
        XCTAssertEqual(listed.first?.attributes, a)
        XCTAssertThrowsError(try fs.open(bytes(dir + "/sub"))) { XCTAssertEqual($0 as? MountError, .isDirectory(path: dir + "/sub")) }
    }

    func testReadsAnyRangeAcrossBlobs() throws {
        try backup("2024-05-01T12:00:00Z")
        let fs = try mount()
        let path = "/snapshots/2024-05-01T12:00:00Z" + source.path + "/dir/big.bin"
        XCTAssertEqual(try readAll(fs, path), big)
        XCTAssertEqual(try readAll(fs, "/snapshots/2024-05-01T12:00:00Z" + source.path + "/dir/sub/big-link", piece: 4097), big)
        let handle = try fs.open(bytes(path))
        defer { fs.close(handle) }
        for (offset, count) in [(0, 1), (12_345, 100_000), (699_990, 100), (350_000, 65536), (700_000, 10)] {
            var buffer = [UInt8](repeating: 0, count: count)
            let n = try buffer.withUnsafeMutableBytes { try fs.read(handle, at: UInt64(offset), into: $0) }
            let expected = Array(big[min(offset, big.count)..<min(offset + count, big.count)])
            XCTAssertEqual(Array(buffer[..<n]), expected, "\(offset)+\(count)")
        }
        var one = [UInt8](repeating: 0, count: 1)
        XCTAssertThrowsError(try one.withUnsafeMutableBytes { try fs.read(999, at: 0, into: $0) })
    }

    func testBlobCacheStaysBoundedAndReadAheadLoadsTheNextBlobs() throws {
        try backup("2024-05-01T12:00:00Z")
        let path = "/snapshots/2024-05-01T12:00:00Z" + source.path + "/dir/big.bin"
        let blobCount = try repositoryBlobs(of: "dir/big.bin")
        XCTAssertGreaterThan(blobCount, 8, "the fixture must span many blobs")
        // A cache smaller than the file: reading it twice loads every blob twice.
        let small = try mount { $0.blobCacheBytes = 70_000; $0.readAheadBytes = 0; $0.stretchBytes = 0 }
        XCTAssertEqual(try readAll(small, path), big)
        XCTAssertEqual(try readAll(small, path), big)
        XCTAssertEqual(small.blobLoads, 2 * blobCount)
        // A large one: the second read costs nothing.
        let large = try mount { $0.readAheadBytes = 0; $0.stretchBytes = 0 }
        _ = try readAll(large, path)
        _ = try readAll(large, path)
        XCTAssertEqual(large.blobLoads, blobCount)
        // Read-ahead: the first small read of a file starts loading the blobs after it.
        let ahead = try mount { $0.readAheadBytes = 1 << 20; $0.readAheadWorkers = 4; $0.stretchBytes = 0 }
        let handle = try ahead.open(bytes(path))
        var one = [UInt8](repeating: 0, count: 1)
        _ = try one.withUnsafeMutableBytes { try ahead.read(handle, at: 0, into: $0) }
        let deadline = Date().addingTimeInterval(10)
        while ahead.blobLoads < 5 && Date() < deadline { usleep(10_000) }
        XCTAssertGreaterThanOrEqual(ahead.blobLoads, 5, "one blob read, at least four loaded ahead")
        ahead.close(handle)
    }

    // A folder with more entries than the tree cache holds stays decoded beside the folders
    // above it: looking up each of its names again decodes nothing (it was decoded again
    // for every name when the oldest tree was dropped first).
    func testLookupsInAFolderLargerThanTheTreeCacheDecodeItOnce() throws {
        for n in 0..<40 { try "\(n)".write(toFile: source.appending("dir/sub/f\(n)"), atomically: false, encoding: .utf8) }
        try backup("2024-05-01T12:00:00Z")
        let fs = try mount { $0.treeCacheEntries = 10 }
        let folder = "/snapshots/2024-05-01T12:00:00Z" + source.path + "/dir/sub/"
        for n in 0..<40 { XCTAssertEqual(try fs.attributes(bytes(folder + "f\(n)")).size, UInt64("\(n)".utf8.count)) }
        let first = fs.treeLoads
        XCTAssertGreaterThan(first, 0)
        for n in (0..<40).reversed() { _ = try fs.attributes(bytes(folder + "f\(n)")) }
        XCTAssertEqual(fs.treeLoads, first, "no folder decoded again")
    }

    // Small files backed up together lie together in a pack: reading them one after another
    // costs one read of a stretch of the pack, not one per file.
    func testStretchesReadNeighbouringBlobsInOneRequest() throws {
        try FileManager.default.createDirectory(atPath: source.appending("many"), withIntermediateDirectories: false)
        for i in 0..<60 { try "file number \(i)\n".write(toFile: source.appending("many/f\(i)"), atomically: false, encoding: .utf8) }
        try backup("2024-05-01T12:00:00Z", paths: [source.appending("many")])
        let fs = try mount { $0.readAheadBytes = 0 }
        let folder = "/snapshots/2024-05-01T12:00:00Z" + source.path + "/many"
        for i in 0..<60 { XCTAssertEqual(try readAll(fs, "\(folder)/f\(i)"), bytes("file number \(i)\n")) }
        // (Parallel backup workers may interleave the files in their packs: a few stretches.)
        XCTAssertLessThanOrEqual(fs.blobLoads, 10, "60 small files in a pack or two: a few stretches")
        let alone = try mount { $0.readAheadBytes = 0; $0.stretchBytes = 0 }
        for i in 0..<60 { XCTAssertEqual(try readAll(alone, "\(folder)/f\(i)"), bytes("file number \(i)\n")) }
        XCTAssertEqual(alone.blobLoads, 60)
    }

    private func repositoryBlobs(of relative: String) throws -> Int {
        try repository.loadIndex()
        var count = 0
        try TreeWalker(repository: repository).walk(try SnapshotStore.find("latest", in: repository).snapshot.tree) { path, node in
            if PathBytes.display(path) == source.path + "/" + relative { count = Set(node.content).count }
        }
        return count
    }

    func testAtShowsTheNewestSnapshotPerGroupAtOrBeforeATime() throws {
        try backup("2024-05-01T12:00:00Z")
        try "v2\n".write(toFile: source.appending("dir/sub/hello.txt"), atomically: false, encoding: .utf8)
        try backup("2024-05-03T12:00:00Z")
        try backup("2024-05-02T00:00:00Z", host: "laptop")
        try backup("2024-05-02T06:00:00Z", host: "laptop", paths: [source.path + "/dir/sub"])
        let fs = try mount()
        let hello = source.path + "/dir/sub/hello.txt"
        XCTAssertEqual(try names(fs, "/at/2024-05-02T12:00:00Z"), ["laptop~1", "laptop~2", "test-host"])
        XCTAssertEqual(try readAll(fs, "/at/2024-05-02T12:00:00Z/test-host" + hello), bytes("hello\n"))
        XCTAssertEqual(try readAll(fs, "/at/2024-05-03T12:00:00Z/test-host" + hello), bytes("v2\n"))
        XCTAssertEqual(try readAll(fs, "/at/2024-06-01/test-host" + hello), bytes("v2\n"), "a date alone is accepted")
        XCTAssertEqual(try names(fs, "/at/2024-05-02T01:00:00Z"), ["laptop~1", "test-host"], "laptop's second group is later")
        XCTAssertEqual(try fs.attributes(bytes("/at/2024-05-02T12:00:00Z/test-host")).mtime, RFC3339.parse("2024-05-01T12:00:00Z"))
        XCTAssertThrowsError(try fs.attributes(bytes("/at/2024-04-30T00:00:00Z")), "nothing before the first snapshot")
        XCTAssertThrowsError(try fs.attributes(bytes("/at/yesterday")))
    }

    func testNewSnapshotsAppearWithoutRemounting() throws {
        try backup("2024-05-01T12:00:00Z")
        let fs = try mount { $0.relistInterval = 0 }
        XCTAssertEqual(try names(fs, "/snapshots"), ["2024-05-01T12:00:00Z", "latest"])
        try "new\n".write(toFile: source.appending("dir/new.txt"), atomically: false, encoding: .utf8)
        try backup("2024-05-02T12:00:00Z")
        XCTAssertEqual(try names(fs, "/snapshots"), ["2024-05-01T12:00:00Z", "2024-05-02T12:00:00Z", "latest"])
        // Its content is readable: the index was reloaded with the new snapshot.
        XCTAssertEqual(try readAll(fs, "/snapshots/latest-is-a-link".replacingOccurrences(of: "latest-is-a-link", with: "2024-05-02T12:00:00Z") + source.path + "/dir/new.txt"), bytes("new\n"))
    }

    func testDamagedBlobFailsTheReadWithAWarningNamingTheFile() throws {
        try backup("2024-05-01T12:00:00Z")
        let path = "/snapshots/2024-05-01T12:00:00Z" + source.path + "/dir/big.bin"
        try repository.loadIndex()
        var content: [BlobID] = []
        try TreeWalker(repository: repository).walk(try SnapshotStore.find("latest", in: repository).snapshot.tree) { p, node in
            if PathBytes.display(p).hasSuffix("/dir/big.bin") { content = node.content }
        }
        let victim = try XCTUnwrap(repository.index.lookup(content[3]))
        memory.tamper(FileName(.data, victim.pack.hex)) { $0[Int(victim.entry.offset) + 20] ^= 0xff }
        let warnings = Mutex<[String]>([])
        let fs = try mount({ $0.readAheadBytes = 0 }, warn: { text in warnings.withLock { $0.append(text) } })
        XCTAssertThrowsError(try readAll(fs, path)) { error in
            guard case .damaged(let where_, _)? = error as? MountError else { return XCTFail("\(error)") }
            XCTAssertEqual(where_, path)
        }
        XCTAssertEqual(warnings.withLock { $0.count }, 1)
        XCTAssertTrue(warnings.withLock { $0.first?.hasPrefix(path) ?? false })
        // The bytes before the damaged blob still read, and other files are unaffected.
        let handle = try fs.open(bytes(path))
        var head = [UInt8](repeating: 0, count: 1000)
        XCTAssertEqual(try head.withUnsafeMutableBytes { try fs.read(handle, at: 0, into: $0) }, 1000)
        XCTAssertEqual(head, Array(big[..<1000]))
        fs.close(handle)
        XCTAssertEqual(try readAll(fs, "/snapshots/2024-05-01T12:00:00Z" + source.path + "/dir/sub/hello.txt"), bytes("hello\n"))
    }
}
