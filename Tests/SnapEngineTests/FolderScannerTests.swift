#if canImport(Glibc)
import Glibc
#endif
import XCTest
import SnapTestSupport
@testable import SnapEngine

/// `FolderScanner`: folders scanned ahead of the walk come back listed and examined, in
/// order; a folder no thread has started is the walk's to list; the room a scan holds is
/// bounded and given back when the walk takes it.
final class FolderScannerTests: XCTestCase {
    private var folder: TemporaryDirectory?
    private var root: [UInt8] = []

    override func setUpWithError() throws {
        let folder = try TemporaryDirectory(prefix: "folder-scanner")
        self.folder = folder
        root = Disk.bytes(folder.path)
        for (folder, count) in [("a", 3), ("b", 70), ("c", 5)] {
            let dir = PathBytes.join(root, Disk.bytes(folder))
            try Disk.mkdir(dir)
            for i in (0..<count).reversed() {
                try Disk.write(PathBytes.join(dir, Disk.bytes("f\(i)")), Array(repeating: UInt8(i % 256), count: i))
            }
        }
    }

    override func tearDownWithError() throws {
        folder?.remove()
    }

    /// Waits until a scanning thread has taken up each of `slots` (10 s at most).
    private func waitUntilStarted(_ slots: [FolderScanSlot]) {
        let deadline = Date().addingTimeInterval(10)
        while !slots.allSatisfy(\.isStarted) && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
    }

    private func slot(_ name: String, xattrs: Bool = false) -> FolderScanSlot {
        let path = PathBytes.join(root, Disk.bytes(name))
        return FolderScanSlot(path: path, listed: ListedEntry((try? FileSystem.lstat(path)) ?? stat()), wantsXattrs: { _ in xattrs })
    }

    func testScannedFoldersComeBackListedInNameOrder() throws {
        let stats = EntryStats(threads: 3)
        let scanner = FolderScanner(threads: 2, stats: stats)
        defer { scanner.close(); stats.close() }
        let slots = [slot("a", xattrs: true), slot("b"), slot("c")]
        scanner.scan(slots)
        waitUntilStarted(slots)  // so that none is left to the walk
        for (s, count) in zip(slots, [3, 70, 5]) {
            let scan = try XCTUnwrap(try scanner.take(s))
            XCTAssertEqual(scan.names, (0..<count).map { Disk.bytes("f\($0)") }.sorted { $0.lexicographicallyPrecedes($1) })
            XCTAssertEqual(scan.entries.count, count)
            for (name, entry) in zip(scan.names, scan.entries) {
                let st = try entry.lstat.get()
                XCTAssertEqual(Int(st.st_size), Int(String(decoding: name.dropFirst(), as: UTF8.self)))
                // Asked for in `a` only: read there (an empty list here), left to the walk elsewhere.
                XCTAssertEqual(entry.xattrs == nil, s !== slots[0])
            }
        }
        XCTAssertEqual(scanner.heldEntries, 0, "every scan taken gives its room back")
    }

    func testAFolderNoThreadStartedIsTheWalks() throws {
        let stats = EntryStats(threads: 1)
        let scanner = FolderScanner(threads: 1, stats: stats)
        defer { stats.close() }
        let unstarted = slot("a")
        XCTAssertNil(try scanner.take(unstarted), "claimed before any thread started it")
        scanner.scan([unstarted])
        scanner.close()  // waits for the thread's job
        XCTAssertFalse(unstarted.isStarted)
        XCTAssertEqual(scanner.heldEntries, 0, "the thread left the claimed slot alone")
    }

    func testScansBeyondTheLimitAreLeftToTheWalk() throws {
        let stats = EntryStats(threads: 1)
        let scanner = FolderScanner(threads: 1, stats: stats, limit: 10)
        defer { scanner.close(); stats.close() }
        let slots = [slot("a"), slot("b"), slot("c")]
        scanner.scan(slots)
        waitUntilStarted(slots)
        let a = try scanner.take(slots[0])
        XCTAssertEqual(a?.names.count, 3)
        XCTAssertNil(try scanner.take(slots[1]), "70 entries do not fit in 10")
        XCTAssertEqual(try scanner.take(slots[2])?.names.count, 5, "3 + 5 fit")
        XCTAssertEqual(scanner.heldEntries, 0)
    }

    func testAFolderThatCannotBeListedFailsItsTake() throws {
        let stats = EntryStats(threads: 1)
        let scanner = FolderScanner(threads: 1, stats: stats)
        defer { scanner.close(); stats.close() }
        let missing = slot("missing")
        scanner.scan([missing])
        waitUntilStarted([missing])
        XCTAssertThrowsError(try scanner.take(missing)) { error in
            XCTAssertEqual((error as? FileSystem.Failure)?.code, ENOENT)
        }
    }

    /// The queue hands out each subfolder's own slot, in order, and nothing for other entries.
    func testTheQueueHandsEachSubfolderItsSlot() throws {
        let stats = EntryStats(threads: 1)
        let scanner = FolderScanner(threads: 1, stats: stats)
        defer { scanner.close(); stats.close() }
        let children = [1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 20]
        var queue = FolderScanQueue(scanner: scanner, folders: children.map { ($0, Disk.bytes("/nonexistent/\($0)"), ListedEntry(stat()), { _ in false }) })
        for child in 0...21 {
            let slot = queue.slot(forChild: child)
            XCTAssertEqual(slot.map { PathBytes.display($0.path) }, children.contains(child) ? "/nonexistent/\(child)" : nil)
        }
    }
}
