import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
import Synchronization
import XCTest

/// Helpers for the prune tests: backups into a repository on any backend, and a full
/// verification that every snapshot's every blob still loads and authenticates.
enum PruneTesting {
    /// A backup that has taken its lock and read the index, and stalls (1.5 s) on writing
    /// its snapshot, for racing a prune against it; `finish` waits for its outcome.
    final class StalledBackup: @unchecked Sendable {
        private let outcome = Mutex<Result<SnapshotID, Error>?>(nil)
        private let done = DispatchSemaphore(value: 0)

        init(on memory: MemoryBackend, path: String, time: String) throws {
            let slow = FaultInjectingBackend(memory, rules: [FaultRule(.write, .delay(1.5), probability: 1, kind: .snapshots)])
            let repository = try Repository.open(backend: slow, password: testPassword)
            Thread.detachNewThread { [self] in
                let r = Result { try PruneTesting.backup(repository, path, time: time) }
                outcome.withLock { $0 = r }
                done.signal()
            }
            var waited = 0
            while try memory.list(.locks).isEmpty && waited < 500 { usleep(2000); waited += 1 }
            usleep(200_000)
        }

        func finish() throws -> SnapshotID {
            done.wait()
            guard let result = outcome.withLock({ $0 }) else { throw StorageError.permanent(operation: "backup", file: nil, location: "test", detail: "no outcome") }
            return try result.get()
        }
    }
    static func backup(_ repository: Repository, _ path: String, time: String) throws -> SnapshotID {
        var options = BackupOptions(paths: [path], hostname: "test-host", username: "tester")
        options.time = RFC3339.parse(time)
        return try Archiver(repository: repository, options: options).run().id
    }

    static func pruneOptions(maxUnused: Double = 0) -> PruneOptions {
        var options = PruneOptions(hostname: "test-host")
        options.maxUnused = maxUnused
        return options
    }

    /// Opens the repository afresh and loads every blob of every snapshot; returns the problems.
    static func problems(in backend: Backend) throws -> [String] {
        let repository = try Repository.open(backend: backend, password: testPassword)
        var problems: [String] = []
        try repository.loadIndex { id, error in problems.append("index \(id.short): \(error)") }
        let walker = TreeWalker(repository: repository)
        for record in try SnapshotStore.all(in: repository, skipped: { id, e in problems.append("snapshot \(id.short): \(e)") }) {
            do {
                try walker.walk(record.snapshot.tree) { path, node in
                    for blob in node.content {
                        do { _ = try repository.loadBlob(blob) } catch { problems.append("\(PathBytes.display(path)): \(error)") }
                    }
                }
            } catch {
                problems.append("snapshot \(record.id.short): \(error)")
            }
        }
        return problems
    }

    /// Pack entries that no snapshot uses, over all indexed packs.
    static func unusedEntries(in backend: Backend) throws -> Int {
        let repository = try Repository.open(backend: backend, password: testPassword)
        try repository.loadIndex()
        var used = Set<BlobID>()
        let walker = TreeWalker(repository: repository)
        for record in try SnapshotStore.all(in: repository) {
            used.insert(record.snapshot.tree)
            try walker.walk(record.snapshot.tree) { _, node in
                used.formUnion(node.content)
                if let s = node.subtree { used.insert(s) }
            }
        }
        var unused = 0
        for info in try backend.list(.data) {
            guard let id = PackID(hex: info.file.name) else { continue }
            let header = try PackFormat.readHeader(of: id, size: info.size, from: backend, keys: repository.keys)
            unused += header.entries.filter { !used.contains($0.id) }.count
        }
        return unused
    }

    /// A copy of every file of a memory backend.
    static func copy(_ backend: MemoryBackend) throws -> MemoryBackend {
        let copy = MemoryBackend()
        for kind in FileKind.allCases {
            for info in try backend.list(kind) { try copy.write(info.file, data: try backend.read(info.file)) }
        }
        return copy
    }

    /// Writes `count` files of seeded random content (several chunks each) under `folder`.
    static func writeFiles(_ folder: String, count: Int, seed: UInt64, size: Int = 40_000) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 0..<count {
            try Data(seededBytes(count: size + i * 131, seed: seed &* 1000 &+ UInt64(i))).write(to: URL(fileURLWithPath: "\(folder)/file-\(i).bin"))
        }
    }
}
