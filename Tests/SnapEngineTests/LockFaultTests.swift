import Foundation
import SnapCore
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import Synchronization
import XCTest

/// The lock protocol under faults (FORMAT.md, "Locks and deletion marks"): files in `locks/`
/// that cannot be read, and hosts whose clocks are wrong, never let prune delete data that
/// a snapshot uses.
final class LockFaultTests: XCTestCase {
    // MARK: Locks that cannot be taken

    // A lock the mirror's policy refuses (one replica of two took it, `all` needs both) is
    // withdrawn from the replica that took it: a command that failed leaves no lock behind.
    func testALockNotTakenIsWithdrawnFromTheReplicasThatTookIt() throws {
        let good = MemoryBackend(), refusingStore = MemoryBackend()
        let refusing = FaultInjectingBackend(refusingStore, rules: [FaultRule(.write, .permanent, probability: 1, kind: .locks)])
        let mirror = MirrorBackend(replicas: [Replica(name: "a", backend: good), Replica(name: "b", backend: refusing)], policy: .all)
        let repository = try makeEngineRepository(on: mirror)
        let record = CoordinationRecord(kind: .backup, hostname: "test-host", pid: 1, created: WallClock.nowText, refreshed: WallClock.nowText)
        XCTAssertThrowsError(try Coordination.write(record, in: repository))
        XCTAssertEqual(try good.list(.locks), [], "withdrawn from the replica that took it")
        XCTAssertEqual(try refusingStore.list(.locks), [])
    }

    // MARK: Unreadable locks and marks

    // A backup is running and its lock file is damaged: prune must take the file for a live
    // lock, name it, and delete nothing; the backup's snapshot stays whole.
    func testPruneDeletesNothingWhileARunningBackupsLockIsDamaged() throws {
        let source = try TemporaryDirectory(prefix: "snap-lockfault")
        defer { source.remove() }
        let memory = MemoryBackend()
        let setup = try makeEngineRepository(on: memory)
        try PruneTesting.writeFiles(source.appending("data"), count: 6, seed: 31)
        let old = try PruneTesting.backup(setup, source.path, time: "2024-01-01T00:00:00Z")
        try memory.delete(FileName(.snapshots, old.hex))

        // The backup deduplicates everything and stalls on writing its snapshot.
        let backup = try PruneTesting.StalledBackup(on: memory, path: source.path, time: "2024-01-02T00:00:00Z")
        let lock = try XCTUnwrap(try memory.list(.locks).first).file
        var bytes = try memory.read(lock)
        bytes[bytes.count / 2] ^= 0x40  // one flipped bit: authentication fails
        try memory.write(lock, data: bytes)

        let notes = Mutex<[String]>([])
        let during = try Pruner(repository: try Repository.open(backend: memory, password: testPassword),
                                options: PruneTesting.pruneOptions()) { note in notes.withLock { $0.append(note) } }.run()
        XCTAssertGreaterThan(during.packsCondemned, 0, "the forgotten data was condemned")
        XCTAssertEqual(during.packsDeleted, 0, "nothing deleted while a file in locks/ cannot be read")
        XCTAssertTrue(notes.withLock { $0 }.contains { $0.contains(lock.description) && $0.contains("running backup") },
                      "the note names the file: \(notes.withLock { $0 })")

        _ = try backup.finish()
        XCTAssertEqual(try PruneTesting.problems(in: memory), [], "the backup's snapshot is whole")
        for _ in 0..<2 {
            _ = try Pruner(repository: try Repository.open(backend: memory, password: testPassword), options: PruneTesting.pruneOptions()).run()
            XCTAssertEqual(try PruneTesting.problems(in: memory), [])
        }
    }

    // A damaged file left in locks/ holds deletions back until `unlock --remove-all`; check
    // reports it as an error with that advice.
    func testDamagedLockFileIsReportedByCheckAndRemovedByUnlock() throws {
        let source = try TemporaryDirectory(prefix: "snap-lockfault")
        defer { source.remove() }
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        try PruneTesting.writeFiles(source.appending("data"), count: 4, seed: 32)
        let old = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        _ = try PruneTesting.backup(repository, source.path + "/data/file-0.bin", time: "2024-01-02T00:00:00Z")
        try memory.delete(FileName(.snapshots, old.hex))
        let garbage = FileName(.locks, String(repeating: "ab", count: 32))
        try memory.write(garbage, data: Array(repeating: 7, count: 200))

        let check = try Checker(repository: try Repository.open(backend: memory, password: testPassword), options: CheckOptions()).run()
        let finding = try XCTUnwrap(check.findings.first { $0.kind == .lockUnreadable })
        XCTAssertEqual(finding.severity, .error)
        XCTAssertEqual(finding.file, garbage.description)
        XCTAssertTrue(finding.message.contains("snap unlock --remove-all"), finding.message)

        let blocked = try Pruner(repository: try Repository.open(backend: memory, password: testPassword), options: PruneTesting.pruneOptions()).run()
        XCTAssertGreaterThan(blocked.packsCondemned, 0)
        XCTAssertEqual(blocked.packsDeleted, 0)

        let plain = try Coordination.unlock(try Repository.open(backend: memory, password: testPassword), removeAll: false, hostname: "test-host")
        XCTAssertEqual(plain.unreadableRemoved, 0, "only --remove-all removes what cannot be read")
        let all = try Coordination.unlock(try Repository.open(backend: memory, password: testPassword), removeAll: true, hostname: "test-host")
        XCTAssertEqual(all.unreadableRemoved, 1)
        let freed = try Pruner(repository: try Repository.open(backend: memory, password: testPassword), options: PruneTesting.pruneOptions()).run()
        XCTAssertGreaterThan(freed.packsDeleted, 0)
        XCTAssertEqual(try PruneTesting.problems(in: memory), [])
        XCTAssertEqual(try memory.list(.locks).count, 0, "the kept mark was finished and removed")
    }

    // A backup that cannot read a file in locks/ (here: every read fails, as with EIO)
    // refuses to start: it would otherwise reuse packs a mark there condemns.
    func testBackupRefusesToStartWhenAMarkCannotBeRead() throws {
        let source = try TemporaryDirectory(prefix: "snap-lockfault")
        defer { source.remove() }
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        try PruneTesting.writeFiles(source.appending("data"), count: 4, seed: 33)
        let old = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        try memory.delete(FileName(.snapshots, old.hex))
        // A running backup elsewhere keeps the mark from being finished.
        let now = WallClock.nowText
        _ = try Coordination.write(CoordinationRecord(kind: .backup, hostname: "other-host", pid: 9, created: now, refreshed: now), in: repository)
        let pruned = try Pruner(repository: repository, options: PruneTesting.pruneOptions()).run()
        XCTAssertGreaterThan(pruned.packsDeferred, 0)
        let packsBefore = try memory.list(.data).count

        let failing = FaultInjectingBackend(memory, rules: [FaultRule(.read, .permanent, probability: 1, kind: .locks)])
        XCTAssertThrowsError(try PruneTesting.backup(try Repository.open(backend: failing, password: testPassword), source.path,
                                                     time: "2024-01-03T00:00:00Z")) { error in
            XCTAssertTrue("\(error)".hasPrefix("backup not started: locks/"), "\(error)")
            XCTAssertTrue("\(error)".contains("deletion mark"), "\(error)")
        }
        XCTAssertEqual(try memory.list(.snapshots).count, 0, "no snapshot written")
        XCTAssertEqual(try memory.list(.data).count, packsBefore, "nothing uploaded")
    }

    // MARK: Clocks

    /// A running backup's lock from a host whose clock is `offset` seconds off.
    private func foreignBackupLock(offset: Int64, in repository: Repository) throws -> CoordinationRecord {
        let t = RFC3339.format(Timestamp(seconds: WallClock.now.seconds + offset, nanoseconds: 0), utcOffset: 0)
        let record = CoordinationRecord(kind: .backup, hostname: "skewed-host", pid: 77, created: t, refreshed: t)
        _ = try Coordination.write(record, in: repository)
        return record
    }

    // Reproduction: a backup on a host 20 minutes ahead, a prune on a correct host. The mark
    // waits for every backup listed after it, whatever the backups' clocks say; once the
    // backup is gone, a later prune deletes the packs.
    func testMarkWaitsForBackupsWhoseClocksAreAheadOrBehind() throws {
        for offset: Int64 in [20 * 60, 60 * 60, -60 * 60] {
            let source = try TemporaryDirectory(prefix: "snap-clock")
            defer { source.remove() }
            let memory = MemoryBackend()
            let repository = try makeEngineRepository(on: memory)
            try PruneTesting.writeFiles(source.appending("data"), count: 4, seed: 34)
            let old = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
            try memory.delete(FileName(.snapshots, old.hex))
            let lock = try foreignBackupLock(offset: offset, in: repository)

            let first = try Pruner(repository: repository, options: PruneTesting.pruneOptions()).run()
            XCTAssertGreaterThan(first.packsCondemned, 0)
            XCTAssertEqual(first.packsDeleted, 0, "a backup \(offset / 60) min off is waited for")
            let mark = try XCTUnwrap(try Coordination.scan(repository).marks.first)
            XCTAssertEqual(mark.record.waitFor, [lock.holder], "the mark waits for the backup listed after it")

            let again = try Pruner(repository: repository, options: PruneTesting.pruneOptions()).run()
            XCTAssertEqual(again.packsDeleted, 0, "still waiting while the lock lives (\(offset / 60) min)")

            for file in try Coordination.scan(repository).files where file.record.kind == .backup {
                try Coordination.remove(file.id, in: repository)
            }
            let done = try Pruner(repository: repository, options: PruneTesting.pruneOptions()).run()
            XCTAssertEqual(done.packsDeleted, first.packsCondemned, "the backup is gone: the packs go")
            XCTAssertEqual(try PruneTesting.problems(in: memory), [])
        }
    }

    // A backup that starts after a mark was settled reads the mark and avoids its packs, so
    // the mark does not wait for it (with a clock rule, a busy repository could wait forever).
    func testMarkDoesNotWaitForBackupsThatStartAfterIt() throws {
        let source = try TemporaryDirectory(prefix: "snap-clock")
        defer { source.remove() }
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        try PruneTesting.writeFiles(source.appending("data"), count: 4, seed: 35)
        let old = try PruneTesting.backup(repository, source.path, time: "2024-01-01T00:00:00Z")
        try memory.delete(FileName(.snapshots, old.hex))
        let early = try foreignBackupLock(offset: 0, in: repository)
        let first = try Pruner(repository: repository, options: PruneTesting.pruneOptions()).run()
        XCTAssertEqual(first.packsDeleted, 0)
        for file in try Coordination.scan(repository).files where file.record.holder == early.holder {
            try Coordination.remove(file.id, in: repository)
        }
        _ = try foreignBackupLock(offset: -5, in: repository)  // started later, clock a little behind
        let second = try Pruner(repository: repository, options: PruneTesting.pruneOptions()).run()
        XCTAssertEqual(second.packsDeleted, first.packsCondemned)
        XCTAssertEqual(try PruneTesting.problems(in: memory), [])
    }

    // A lock whose writer's clock is hours behind looks old by its own times, but the storage
    // wrote it just now: with the storage's time known, it is alive; once the storage's time
    // of it is old, it is dead whatever its own times say.
    func testLockIsAliveByTheStoragesClockWhenTheWritersClockIsFarBehind() throws {
        let directory = try TemporaryDirectory(prefix: "snap-clock")
        defer { directory.remove() }
        let backend = LocalBackend(root: directory.appending("repo"))
        let repository = try makeEngineRepository(on: backend)
        _ = try foreignBackupLock(offset: -3 * 3600, in: repository)
        let file = try XCTUnwrap(try Coordination.scan(repository, times: true).files.first)
        XCTAssertNotNil(file.modified)
        let timing = LockTiming()
        XCTAssertTrue(timing.isAlive(file, now: WallClock.now, measured: true, localHost: "test-host"))
        XCTAssertFalse(timing.isAlive(file, now: WallClock.now, measured: false, localHost: "test-host"),
                       "without the storage's time, the writer's own times decide")
        var stale = file
        stale.modified = WallClock.seconds - 36 * 60
        XCTAssertFalse(timing.isAlive(stale, now: WallClock.now, measured: true, localHost: "test-host"), "not rewritten for 36 minutes: dead")
        let ahead = try foreignBackupLock(offset: 2 * 3600, in: repository)
        var aheadFile = try XCTUnwrap(try Coordination.scan(repository, times: true).files.first { $0.record == ahead })
        aheadFile.modified = WallClock.seconds - 36 * 60
        XCTAssertFalse(timing.isAlive(aheadFile, now: WallClock.now, measured: true, localHost: "test-host"),
                       "a clock far ahead cannot keep a dead lock alive once the storage's time is known")
    }

    // A host whose clock is further from the storage's than locks tolerate gets no lock and
    // a clear error; one within the tolerance works.
    func testHostWhoseClockIsFarFromTheStoragesIsRefused() throws {
        let memory = MemoryBackend()
        _ = try makeEngineRepository(on: memory)
        for (shift, refused) in [(2.0 * 3600, true), (-2.0 * 3600, true), (30.0 * 60, false), (-60.0 * 60, false)] {
            let shifted = try Repository.open(backend: StorageClockBackend(memory, storageAhead: shift), password: testPassword)
            do {
                let lock = try RepositoryLock(kind: .backup, repository: shifted, hostname: "test-host")
                XCTAssertFalse(refused, "a clock \(shift / 60) min off must be refused")
                XCTAssertEqual(try XCTUnwrap(lock.clockOffset), shift, accuracy: 5)
                lock.release()
            } catch let error as CoordinationError {
                XCTAssertTrue(refused, "\(error)")
                XCTAssertTrue("\(error)".contains("120 minutes \(shift > 0 ? "behind" : "ahead of")"), "\(error)")
                XCTAssertTrue("\(error)".contains("NTP"), "\(error)")
            }
            XCTAssertEqual(try memory.list(.locks).count, 0, "no lock left behind")
        }
    }

    // unlock keeps another host's lock that is not yet stale by the times it can see, and
    // says whose it is and how old, so that the user can judge whether --remove-all is safe.
    func testUnlockNamesTheLocksItKeeps() throws {
        let memory = MemoryBackend()
        let repository = try makeEngineRepository(on: memory)
        let lock = try RepositoryLock(kind: .backup, repository: repository, hostname: "laptop")
        defer { lock.release() }
        let result = try Coordination.unlock(try Repository.open(backend: memory, password: testPassword), removeAll: false,
                                             hostname: "test-host")
        XCTAssertEqual(result.locksKept, 1)
        XCTAssertEqual(result.kept.map(\.hostname), ["laptop"])
        XCTAssertEqual(result.kept.first?.kind, "backup")
        XCTAssertEqual(result.kept.first?.pid, getpid())
        XCTAssertEqual(result.kept.first?.minutesSinceRefresh, 0)
    }
}

/// A backend whose storage clock is `storageAhead` seconds ahead of this host's: `stat`
/// reports files as written then. Stands for a host whose own clock is that far behind.
final class StorageClockBackend: ForwardingBackend, @unchecked Sendable {
    private let shift: Double

    init(_ base: Backend, storageAhead: Double) {
        shift = storageAhead
        super.init(base)
    }

    override func stat(_ file: FileName) throws -> FileInfo {
        let info = try base.stat(file)
        return FileInfo(file: file, size: info.size, modified: WallClock.seconds + shift)
    }
}
