import XCTest
import SnapChunker
import SnapCore
import SnapCrypto
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

let testPassword = "engine test password"

/// A cheap key (scrypt N = 1024) and small chunks (4/16/64 KiB), so debug builds stay fast.
func engineInitOptions() -> Repository.InitOptions {
    var options = Repository.InitOptions()
    options.keyCost = Scrypt.Parameters(n: 1024, r: 8, p: 1)
    options.chunker = ChunkerParameters(minSize: 4096, averageSize: 16384, maxSize: 65536)
    return options
}

func makeEngineRepository(on backend: Backend, options: Repository.InitOptions = engineInitOptions()) throws -> Repository {
    try Repository.initialize(backend: backend, password: testPassword, options: options,
                              hostname: "test-host", username: "tester", now: "2025-01-01T00:00:00Z")
}

/// Every file name in the backend, by kind.
func allFiles(_ backend: Backend) throws -> [FileKind: Set<FileInfo>] {
    var files: [FileKind: Set<FileInfo>] = [:]
    for kind in FileKind.allCases { files[kind] = Set(try backend.list(kind)) }
    return files
}

/// A repository in a temporary folder, a source folder and a restore folder, removed at the end.
final class BackupFixture {
    let repositoryDirectory: TemporaryDirectory
    let sourceDirectory: TemporaryDirectory
    let targetDirectory: TemporaryDirectory
    let backend: LocalBackend
    let repository: Repository

    /// - Parameter packSize: the repository's pack size; `engineInitOptions()`'s when `nil`.
    init(packSize: Int? = nil) throws {
        repositoryDirectory = try TemporaryDirectory(prefix: "snap-engine-repo")
        sourceDirectory = try TemporaryDirectory(prefix: "snap-engine-src")
        targetDirectory = try TemporaryDirectory(prefix: "snap-engine-dst")
        backend = LocalBackend(root: repositoryDirectory.path)
        var options = engineInitOptions()
        if let packSize { options.packSize = packSize }
        repository = try makeEngineRepository(on: backend, options: options)
    }

    deinit {
        repositoryDirectory.remove()
        sourceDirectory.remove()
        targetDirectory.remove()
    }

    /// The absolute path of `relative` inside the source folder, as a string.
    func source(_ relative: String) -> String { sourceDirectory.appending(relative) }

    /// The absolute path of `components` inside the source folder, as raw bytes.
    func sourcePath(_ components: [UInt8]...) -> [UInt8] {
        components.reduce(Disk.bytes(sourceDirectory.path)) { PathBytes.join($0, $1) }
    }

    /// Where a restore puts the source path `absolute`: the target folder followed by that path.
    func restored(_ absolute: [UInt8]) -> [UInt8] { Disk.bytes(targetDirectory.path) + absolute }

    func backup(_ paths: [String], excludes: [String] = [], hostname: String = "test-host") throws -> BackupResult {
        var options = BackupOptions(paths: paths, hostname: hostname, username: "tester")
        options.excludes = excludes.map { PatternText($0) }
        options.workers = 2
        return try Archiver(repository: repository, options: options).run()
    }

    /// Restores `tree` into the target folder (or `target`) with a freshly opened repository, so only what was stored counts.
    func restore(_ tree: BlobID, includes: [String] = [], excludes: [String] = [], into target: String? = nil,
                 batchSize: Int? = nil, _ configure: (inout RestoreOptions) -> Void = { _ in }) throws -> RestoreResult {
        let reopened = try Repository.open(backend: LocalBackend(root: repositoryDirectory.path), password: testPassword)
        try reopened.loadIndex()
        var options = RestoreOptions(target: target ?? targetDirectory.path)
        options.include = PatternRules(patterns: includes.map { PatternText($0) })
        options.exclude = PatternRules(patterns: excludes.map { PatternText($0) })
        options.workers = 2
        if let batchSize { options.batchSize = batchSize }
        configure(&options)
        return try Restorer(repository: reopened, tree: tree, options: options).run()
    }

    /// Every entry of a snapshot, by absolute snapshot path.
    func snapshotEntries(_ tree: BlobID) throws -> [[UInt8]: Node] {
        var entries: [[UInt8]: Node] = [:]
        try TreeWalker(repository: repository).walk(tree) { path, node in entries[path] = node }
        return entries
    }
}

/// Paths for messages: one per line, displayable.
func describe<S: Sequence>(_ paths: S) -> String where S.Element == [UInt8] {
    paths.map(PathBytes.display).sorted().joined(separator: "\n")
}

/// Runs `body` with the snapshot importer of a fresh import session on `f`'s repository
/// (two workers, lock host `test-host`), and closes the session afterwards.
func withImporter<T>(_ f: BackupFixture, _ body: (SnapshotImporter) throws -> T) throws -> T {
    var options = ImportOptions(lockHostname: "test-host")
    options.workers = 2
    let session = try ImportSession(repository: f.repository, options: options)
    defer { session.close() }
    return try body(session.snapshot())
}
