import XCTest
import Synchronization
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// Storage whose `data/` listing leaves out chosen packs, as if a prune had deleted them
/// while a backup's lock could not be refreshed; reads still work.
private final class PackHidingBackend: ForwardingBackend, @unchecked Sendable {
    let hidden = Mutex<Set<String>>([])
    override func list(_ kind: FileKind) throws -> [FileInfo] {
        let hidden = self.hidden.withLock { $0 }
        return try base.list(kind).filter { kind != .data || !hidden.contains($0.file.name) }
    }
}

final class BackupDependencyCheckTests: XCTestCase {
    // With the lock's refresh made to look overdue, every backup checks before writing its
    // snapshot that the packs it depends on still exist: a healthy backup passes, and one
    // that deduplicated against a pack that has since gone fails with a clear error and
    // writes no snapshot.
    func testBackupThatLostAPackItDependsOnWritesNoSnapshot() throws {
        let f = try BackupFixture()
        let source = f.sourcePath(Disk.bytes("src"))
        try SampleTree.build(at: source)
        let storage = PackHidingBackend(f.backend)
        func backup() throws -> BackupResult {
            let repository = try Repository.open(backend: storage, password: testPassword)
            var options = BackupOptions(paths: [f.source("src")], hostname: "test-host", username: "tester")
            options.lockTiming.staleAfter = 1
            options.lockTiming.refreshInterval = 2  // quiet time always exceeds staleAfter − refreshInterval
            return try Archiver(repository: repository, options: options).run()
        }
        let first = try backup()
        XCTAssertEqual(try SnapshotStore.all(in: f.repository).count, 1)

        try f.repository.loadIndex()
        let entries = try f.snapshotEntries(first.snapshot.tree)
        let big = try XCTUnwrap(entries[PathBytes.join(source, Disk.bytes("big.bin"))])
        let pack = try XCTUnwrap(f.repository.index.lookup(big.content[0])).pack
        storage.hidden.withLock { _ = $0.insert(pack.hex) }

        XCTAssertThrowsError(try backup()) { error in
            guard case EngineError.repositoryChanged(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains(pack.short), message)
        }
        XCTAssertEqual(try SnapshotStore.all(in: f.repository).count, 1, "no snapshot naming the lost pack")
    }
}
