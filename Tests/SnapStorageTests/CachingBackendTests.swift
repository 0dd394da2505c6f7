import Foundation
import SnapCore
import SnapCrypto
import SnapStorage
import SnapTestSupport
import Synchronization
import XCTest

/// Counts the whole-file reads that reach the backend it wraps.
private final class CountingBackend: ForwardingBackend, @unchecked Sendable {
    let memory: MemoryBackend
    private let counts = Mutex<[FileName: Int]>([:])

    init() {
        memory = MemoryBackend()
        super.init(memory)
    }

    func reads(of file: FileName) -> Int { counts.withLock { $0[file] ?? 0 } }

    override func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        counts.withLock { $0[file, default: 0] += 1 }
        return try base.read(file, range: range)
    }
}

final class CachingBackendTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var remote: CountingBackend!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        remote = CountingBackend()
    }

    override func tearDown() { directory.remove() }

    private var cacheFolder: String { directory.appending("repo-id") }

    private func cached(report: @escaping @Sendable (String) -> Void = { _ in }) -> CachingBackend {
        CachingBackend(remote, directory: cacheFolder, report: report)
    }

    /// A file named by the SHA-256 of its bytes, as the repository names its files.
    private func stored(_ kind: FileKind, seed: UInt64) throws -> (FileName, [UInt8]) {
        let bytes = seededBytes(count: 3000 + Int(seed), seed: seed)
        let file = FileName(kind, Hex.encode(SHA256.hash(bytes)))
        try remote.write(file, data: bytes)
        return (file, bytes)
    }

    private func matchesName(_ file: FileName) -> ([UInt8]) -> Bool {
        { Hex.encode(SHA256.hash($0)) == file.name }
    }

    // A metadata file read once is served from the local copy afterwards, also by a later
    // process (a new decorator over the same folder).
    func testMetadataIsDownloadedOnce() throws {
        let (file, bytes) = try stored(.index, seed: 1)
        XCTAssertEqual(try cached().readMetadata(file, isValid: matchesName(file)), bytes)
        XCTAssertEqual(try cached().readMetadata(file, isValid: matchesName(file)), bytes)
        XCTAssertEqual(remote.reads(of: file), 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(cacheFolder)/index/\(file.name)"))
    }

    // Metadata written through the cache is never downloaded.
    func testWrittenMetadataIsKept() throws {
        let bytes = seededBytes(count: 5000, seed: 2)
        let file = FileName(.snapshots, Hex.encode(SHA256.hash(bytes)))
        try cached().writeMetadata(file, data: bytes)
        XCTAssertEqual(try remote.memory.read(file), bytes, "the repository has the file")
        XCTAssertEqual(try cached().readMetadata(file, isValid: matchesName(file)), bytes)
        XCTAssertEqual(remote.reads(of: file), 0)
    }

    // A pack of trees staged on disk and written as metadata is kept too; a staged plain write is not.
    func testStagedMetadataIsKept() throws {
        let bytes = seededBytes(count: 70_000, seed: 4)
        let file = FileName(.data, Hex.encode(SHA256.hash(bytes)))
        let cache = cached()
        let staged = try cache.makeStagedFile()
        try staged.append(bytes)
        try cache.writeMetadata(file, staged: staged)
        XCTAssertEqual(try remote.memory.read(file), bytes, "the repository has the file")
        XCTAssertEqual(try cached().readMetadata(file, isValid: matchesName(file)), bytes)
        XCTAssertEqual(remote.reads(of: file), 0)

        let plain = FileName(.data, BackendConformance.fileName(9))
        let other = try cache.makeStagedFile()
        try other.append(bytes)
        try cache.write(plain, staged: other)
        XCTAssertEqual(try remote.memory.read(plain), bytes)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(cacheFolder)/data/\(plain.name.prefix(2))/\(plain.name)"))
    }

    // A range of a metadata file (a tree in a pack of trees) makes the cache fetch and keep
    // the whole file once; later ranges, also in a later process, come from the copy.
    // A range past the end is refused as invalid.
    func testMetadataRangesComeFromTheWholeCopy() throws {
        let (file, bytes) = try stored(.data, seed: 7)
        XCTAssertEqual(try cached().readMetadata(file, range: 100..<900, isValid: matchesName(file), rangeIsValid: { _ in true }), Array(bytes[100..<900]))
        XCTAssertEqual(try LocalBackend(root: cacheFolder).read(file), bytes, "kept whole")
        let later = cached()
        XCTAssertEqual(try later.readMetadata(file, range: 0..<10, isValid: matchesName(file), rangeIsValid: { _ in true }), Array(bytes[0..<10]))
        XCTAssertEqual(try later.readMetadata(file, range: 2000..<bytes.count, isValid: matchesName(file), rangeIsValid: { _ in true }),
                       Array(bytes[2000...]))
        XCTAssertEqual(remote.reads(of: file), 1)
        XCTAssertThrowsError(try later.readMetadata(file, range: 10..<(bytes.count + 1), isValid: matchesName(file), rangeIsValid: { _ in true })) { error in
            guard case .invalidRange? = error as? StorageError else { return XCTFail("unexpected error \(error)") }
        }
    }

    // A range of the copy that fails its check makes the cache check the copy whole: a
    // damaged copy is fetched again and replaced; an intact one is not fetched again (the
    // range itself is bad, and the caller's decoding says so).
    func testDamagedRangeOfTheCopyIsFetchedAgain() throws {
        let (file, bytes) = try stored(.data, seed: 10)
        let expected = Array(bytes[300..<700])
        let isExpected = { (part: [UInt8]) in part == expected }
        XCTAssertEqual(try cached().readMetadata(file, range: 300..<700, isValid: matchesName(file), rangeIsValid: isExpected), expected)
        var damaged = bytes
        damaged[400] ^= 0x40
        try LocalBackend(root: cacheFolder).write(file, data: damaged)

        XCTAssertEqual(try cached().readMetadata(file, range: 300..<700, isValid: matchesName(file), rangeIsValid: isExpected), expected)
        XCTAssertEqual(remote.reads(of: file), 2, "the damaged copy was fetched again")
        XCTAssertEqual(try LocalBackend(root: cacheFolder).read(file), bytes, "and replaced")

        let rejected = try cached().readMetadata(file, range: 300..<700, isValid: matchesName(file), rangeIsValid: { _ in false })
        XCTAssertEqual(rejected, expected, "an intact copy's range is returned for the caller to report")
        XCTAssertEqual(remote.reads(of: file), 2, "an intact copy is not fetched again")
    }

    // A file damaged in the repository itself, away from the range asked for, is not kept,
    // and the range is read on its own (a mirror would try each replica's range).
    func testRangeOfAFileDamagedInTheRepositoryIsReadOnItsOwn() throws {
        let (file, bytes) = try stored(.data, seed: 11)
        var damaged = bytes
        damaged[2500] ^= 1
        try remote.write(file, data: damaged)
        let part = try cached().readMetadata(file, range: 100..<200, isValid: matchesName(file),
                                             rangeIsValid: { $0 == Array(bytes[100..<200]) })
        XCTAssertEqual(part, Array(bytes[100..<200]))
        XCTAssertEqual(remote.reads(of: file), 2, "the whole file, then the range")
        XCTAssertThrowsError(try LocalBackend(root: cacheFolder).read(file), "a damaged file is not kept")
    }

    // Without a cache, a metadata range is an ordinary range read: the file is not read whole.
    func testMetadataRangeWithoutCacheReadsTheRange() throws {
        let (file, bytes) = try stored(.data, seed: 8)
        XCTAssertEqual(try remote.readMetadata(file, range: 5..<50, isValid: { _ in XCTFail("no whole file to check"); return true },
                                              rangeIsValid: { $0 == Array(bytes[5..<50]) }),
                       Array(bytes[5..<50]))
        XCTAssertEqual(remote.reads(of: file), 1)
    }

    // Ordinary reads and writes (data packs, ranges) bypass the cache.
    func testPlainFilesAreNotKept() throws {
        let (file, bytes) = try stored(.data, seed: 3)
        let cache = cached()
        XCTAssertEqual(try cache.read(file), bytes)
        XCTAssertEqual(try cache.read(file, range: 10..<20), Array(bytes[10..<20]))
        try cache.write(FileName(.data, String(repeating: "ab", count: 32)), data: [1, 2, 3])
        XCTAssertEqual(try LocalBackend(root: cacheFolder).list(.data), [])
        XCTAssertEqual(remote.reads(of: file), 2)
    }

    // A damaged local copy is reported, dropped and replaced by the repository's file.
    func testDamagedCopyIsReplaced() throws {
        let (file, bytes) = try stored(.data, seed: 4)
        _ = try cached().readMetadata(file, isValid: matchesName(file))
        let copy = LocalBackend(root: cacheFolder).path(of: file)
        var damaged = bytes
        damaged[100] ^= 1
        try Data(damaged).write(to: URL(fileURLWithPath: copy))

        let reports = Mutex<[String]>([])
        XCTAssertEqual(try cached { m in reports.withLock { $0.append(m) } }.readMetadata(file, isValid: matchesName(file)), bytes)
        XCTAssertEqual(remote.reads(of: file), 2)
        XCTAssertEqual(reports.withLock { $0.count }, 1)
        XCTAssertTrue(reports.withLock { $0.first?.contains(file.description) ?? false })
        XCTAssertEqual(try LocalBackend(root: cacheFolder).read(file), bytes, "the copy is repaired")
    }

    // Bytes that fail the caller's check are returned (for the caller to report) but never kept.
    func testInvalidDownloadIsNotKept() throws {
        let (file, _) = try stored(.index, seed: 5)
        remote.memory.tamper(file) { $0[0] ^= 0xff }
        _ = try cached().readMetadata(file, isValid: matchesName(file))
        XCTAssertFalse(try LocalBackend(root: cacheFolder).exists(file))
    }

    // Listing a kind drops the copies of files the repository no longer has; deleting
    // through the cache drops the copy at once.
    func testCopiesFollowTheRepository() throws {
        let (kept, _) = try stored(.snapshots, seed: 6)
        let (forgotten, _) = try stored(.snapshots, seed: 7)
        let (deleted, _) = try stored(.snapshots, seed: 8)
        let cache = cached()
        for file in [kept, forgotten, deleted] { _ = try cache.readMetadata(file, isValid: matchesName(file)) }
        let store = LocalBackend(root: cacheFolder)

        try cache.delete(deleted)
        XCTAssertFalse(try store.exists(deleted))

        try remote.delete(forgotten)  // by another machine
        XCTAssertTrue(try store.exists(forgotten))
        XCTAssertEqual(try cache.list(.snapshots).map(\.file), [kept])
        XCTAssertEqual(try store.list(.snapshots).map(\.file), [kept])
    }

    // A listing together with `keys/` that finds no key is of an empty location (moved
    // away, not yet reachable), not of the repository: it drops no copy. Once a key is
    // listed, the same listing drops the copies of files that are gone.
    func testListingWithoutAKeyDropsNoCopy() throws {
        let (file, _) = try stored(.snapshots, seed: 11)
        let cache = cached()
        _ = try cache.readMetadata(file, isValid: matchesName(file))
        try remote.delete(file)
        let store = LocalBackend(root: cacheFolder)

        let empty = try cache.list(kinds: [.snapshots, .keys])
        XCTAssertEqual(empty[.snapshots].count, 0)
        XCTAssertTrue(try store.exists(file), "kept while no key is listed")

        try remote.write(FileName(.keys, String(repeating: "a", count: 64)), data: [1, 2, 3])
        _ = try cache.list(kinds: [.snapshots, .keys])
        XCTAssertFalse(try store.exists(file))
    }

    // A copy whose file the repository lists with another size (cut short there, or
    // replaced) is dropped by the listing, so that the repository's file is read and judged.
    func testListingWithAnotherSizeDropsTheCopy() throws {
        let (file, bytes) = try stored(.index, seed: 9)
        let (other, _) = try stored(.index, seed: 10)
        let cache = cached()
        for f in [file, other] { _ = try cache.readMetadata(f, isValid: matchesName(f)) }
        try remote.write(file, data: Array(bytes.prefix(100)))
        _ = try cache.list(.index)
        let store = LocalBackend(root: cacheFolder)
        XCTAssertFalse(try store.exists(file))
        XCTAssertTrue(try store.exists(other))
        XCTAssertEqual(remote.reads(of: file), 1)
        XCTAssertEqual(try cache.readMetadata(file, isValid: matchesName(file)).count, 100, "the repository's file, as it is now")
        XCTAssertEqual(remote.reads(of: file), 2)
    }

    // A cache that cannot be written is reported once and otherwise ignored.
    func testUnwritableCacheIsReportedOnce() throws {
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: cacheFolder))
        let reports = Mutex<[String]>([])
        let cache = cached { m in reports.withLock { $0.append(m) } }
        let (a, bytesA) = try stored(.index, seed: 9)
        let (b, bytesB) = try stored(.index, seed: 10)
        XCTAssertEqual(try cache.readMetadata(a, isValid: matchesName(a)), bytesA)
        XCTAssertEqual(try cache.readMetadata(b, isValid: matchesName(b)), bytesB)
        try cache.writeMetadata(FileName(.index, String(repeating: "cd", count: 32)), data: [9])
        XCTAssertEqual(reports.withLock { $0.count }, 1)
        XCTAssertTrue(reports.withLock { $0.first?.contains("cannot write to the cache") ?? false })
    }

    // Opening a cache marks it as in use (for the clean-up of stale caches).
    func testOpeningTouchesTheFolder() throws {
        try FileManager.default.createDirectory(atPath: cacheFolder, withIntermediateDirectories: true)
        let old = Date().addingTimeInterval(-40 * 86_400)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: cacheFolder)
        _ = cached()
        let modified = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: cacheFolder)[.modificationDate] as? Date)
        XCTAssertGreaterThan(modified, Date().addingTimeInterval(-3600))
    }
}
