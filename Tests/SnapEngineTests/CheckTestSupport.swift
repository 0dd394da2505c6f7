import XCTest
import SnapCore
@testable import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport

/// A repository with small chunks and 1 MiB packs (so a few megabytes make several packs),
/// a source folder with files of every size class, and a restore folder.
final class CheckFixture {
    let repositoryDirectory: TemporaryDirectory
    let sourceDirectory: TemporaryDirectory
    let targetDirectory: TemporaryDirectory
    let backend: LocalBackend

    static let packSize = 1 << 20

    init() throws {
        repositoryDirectory = try TemporaryDirectory(prefix: "snap-check-repo")
        sourceDirectory = try TemporaryDirectory(prefix: "snap-check-src")
        targetDirectory = try TemporaryDirectory(prefix: "snap-check-dst")
        backend = LocalBackend(root: repositoryDirectory.path)
        var options = engineInitOptions()
        options.packSize = Self.packSize
        _ = try Repository.initialize(backend: backend, password: testPassword, options: options,
                                      hostname: "test-host", username: "tester", now: "2025-01-01T00:00:00Z")
    }

    deinit {
        repositoryDirectory.remove()
        sourceDirectory.remove()
        targetDirectory.remove()
    }

    /// The backed-up folder.
    var src: [UInt8] { PathBytes.join(Disk.bytes(sourceDirectory.path), Disk.bytes("src")) }

    /// A path inside `src`, e.g. `at("docs", "readme.txt")`.
    func at(_ parts: String...) -> [UInt8] { parts.reduce(src) { PathBytes.join($0, Disk.bytes($1)) } }

    /// Creates `src`: three large files (the second spans a pack boundary), small files,
    /// nested folders, a hard link pair, a symlink, and `big-2.bin.damaged`, whose name a
    /// repair of `big-2.bin` must not take.
    func buildSource() throws {
        try Disk.mkdir(src)
        try Disk.write(at("big-1.bin"), seededBytes(count: 400_000, seed: 1))
        try Disk.write(at("big-2.bin"), seededBytes(count: 1_500_000, seed: 2))
        try Disk.write(at("big-2.bin.damaged"), Array("not a repair product\n".utf8))
        try Disk.write(at("big-3.bin"), seededBytes(count: 700_000, seed: 3))
        try Disk.write(at("small.txt"), Array("small\n".utf8))
        try Disk.write(at("empty.txt"), [])
        try Disk.mkdir(at("docs"))
        try Disk.write(at("docs", "readme.txt"), Array("read me\n".utf8))
        try Disk.mkdir(at("docs", "nested"))
        try Disk.write(at("docs", "nested", "medium.bin"), seededBytes(count: 150_000, seed: 4))
        try Disk.write(at("docs", "nested", "note.txt"), Array("a note\n".utf8))
        try Disk.write(at("hard-1"), seededBytes(count: 100_000, seed: 5))
        try Disk.link(at("hard-1"), at("docs", "hard-2"))
        try Disk.symlink(Disk.bytes("docs/readme.txt"), at: at("link"))
    }

    /// Backs up `src` (or `paths`) with a fresh repository object.
    @discardableResult
    func backup(_ paths: [String]? = nil, time: Timestamp? = nil) throws -> BackupResult {
        var options = BackupOptions(paths: paths ?? [PathBytes.display(src)], hostname: "test-host", username: "tester")
        options.workers = 2
        options.time = time
        return try Archiver(repository: try open(), options: options).run()
    }

    /// A freshly opened repository (nothing loaded), so that only what is stored counts.
    func open() throws -> Repository {
        try Repository.open(backend: LocalBackend(root: repositoryDirectory.path), password: testPassword)
    }

    /// A freshly opened repository with its index loaded.
    func openWithIndex() throws -> Repository {
        let repository = try open()
        try repository.loadIndex()
        return repository
    }

    /// Checks the repository; with `tableIn`, holding the blob index as a mapped table in
    /// that cache folder however few blobs there are (as large repositories do).
    /// - Parameter lostInTable: find the blobs of missing packs by the mapped table however few
    ///   they are (`CheckOptions.lostBlobsInMemory` 0; with `folder` only).
    func check(readData: PackSubset? = nil, seed: UInt64? = nil, tableIn folder: String? = nil,
               lostInTable: Bool = false) throws -> CheckReport {
        var options = CheckOptions()
        if lostInTable { options.lostBlobsInMemory = 0 }
        options.readData = readData
        options.workers = 2
        options.randomSeed = seed
        options.indexPolicy.minimumTableBlobs = folder == nil ? options.indexPolicy.minimumTableBlobs : 0
        let repository = try Repository.open(backend: LocalBackend(root: repositoryDirectory.path), password: testPassword, indexCacheRoot: folder)
        return try Checker(repository: repository, options: options).run()
    }

    func repairer() throws -> Repairer { Repairer(repository: try open(), hostname: "test-host", workers: 2) }

    /// Restores `tree` into `target` (default: the target folder) with a fresh repository.
    func restore(_ tree: BlobID, into target: String? = nil) throws -> RestoreResult {
        var options = RestoreOptions(target: target ?? targetDirectory.path)
        options.workers = 2
        return try Restorer(repository: try openWithIndex(), tree: tree, options: options).run()
    }

    /// Where a restore into the target folder puts the source path `absolute`.
    func restored(_ absolute: [UInt8]) -> [UInt8] { Disk.bytes(targetDirectory.path) + absolute }

    /// Every entry of a snapshot, by snapshot path.
    func entries(_ tree: BlobID) throws -> [[UInt8]: Node] {
        var entries: [[UInt8]: Node] = [:]
        try TreeWalker(repository: try openWithIndex()).walk(tree) { path, node in entries[path] = node }
        return entries
    }

    /// The pack and entry of a blob, as the index has them.
    func location(of blob: BlobID) throws -> BlobLocation {
        try XCTUnwrap(try openWithIndex().index.lookup(blob), "blob \(blob.short) is not indexed")
    }

    func packPath(_ pack: PackID) -> [UInt8] { Disk.bytes(backend.path(of: FileName(.data, pack.hex))) }

    func flipByte(in pack: PackID, at offset: Int) throws {
        var bytes = try Disk.read(packPath(pack))
        bytes[offset] ^= 0x40
        try Disk.write(packPath(pack), bytes)
    }

    func truncate(_ pack: PackID, to size: Int) throws {
        let bytes = try Disk.read(packPath(pack))
        try Disk.write(packPath(pack), Array(bytes[..<size]))
    }

    func delete(_ pack: PackID) throws { try backend.delete(FileName(.data, pack.hex)) }

    /// Rewrites every index file, with `edit` applied to each listing of `pack`.
    func rewriteIndex(of pack: PackID, _ edit: (inout IndexedPack) -> Void) throws {
        let repository = try open()
        var files: [IndexFile] = []
        for info in try backend.list(.index) {
            files.append(try repository.loadIndexFile(try XCTUnwrap(IndexID(hex: info.file.name))))
            try backend.delete(info.file)
        }
        for var file in files {
            for i in file.packs.indices where file.packs[i].id == pack { edit(&file.packs[i]) }
            _ = try repository.saveFile(.index, plaintext: file.encoded())
        }
    }

    /// Every file name in the repository, by kind (to show that something wrote nothing).
    func files() throws -> [FileKind: Set<FileInfo>] { try allFiles(backend) }

    /// The packs the index names, by ID.
    func indexedPacks() throws -> Set<PackID> { Set(try openWithIndex().index.packs.map(\.id)) }
}

extension CheckReport {
    /// Findings of one kind.
    func findings(_ kind: Finding.Kind) -> [Finding] { findings.filter { $0.kind == kind } }

    /// The damaged blob with this ID.
    func damaged(_ id: BlobID) -> DamagedBlob? { damagedBlobs.first { $0.id == id } }

    /// Snapshot paths using a damaged blob, as text.
    func usePaths(_ id: BlobID) -> Set<String> { Set(damaged(id)?.uses.map { PathBytes.display($0.path) } ?? []) }

    /// One line per problem, for failure messages.
    var summary: String {
        (findings.map { "\($0.severity.rawValue) \($0.kind.rawValue) \($0.file): \($0.message)" }
            + damagedBlobs.map { "blob \($0.id.short) \($0.problem.rawValue): \($0.reason) uses \($0.uses.map { PathBytes.display($0.path) })" })
            .joined(separator: "\n")
    }
}
