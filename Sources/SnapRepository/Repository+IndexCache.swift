import Foundation
import SnapCore
import SnapStorage

/// How `Repository.loadIndex` keeps the blob index: thresholds for the mapped table.
public struct IndexCachePolicy: Sendable {
    /// Repositories with fewer blobs keep their index in memory (a table file would save little).
    public var minimumTableBlobs = 100_000
    /// Records of new index files kept in memory beside the table before a new table is written.
    public var foldRecords = 131_072
    /// New index files read on every open before a new table is written.
    public var foldFiles = 32
    /// The most records sorted in memory at once while building a table.
    public var runRecords = 1 << 20
    /// Where a repository without an index cache folder (`--no-cache`, `repair`, no home
    /// folder) builds its table: a private folder made here is removed as soon as the table
    /// is mapped, so nothing outlives the command. `$TMPDIR`, else `/tmp`.
    public var temporaryRoot = IndexCachePolicy.defaultTemporaryRoot()

    public init() {}

    static func defaultTemporaryRoot(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment["TMPDIR"], dir.hasPrefix("/") { return dir }
        return "/tmp"
    }
}

extension IndexID {
    /// The index files of a listing of `index/` (names that are not IDs are left out).
    public static func all(in listed: [FileInfo]) -> [IndexID] { listed.compactMap { IndexID(hex: $0.file.name) } }
}

extension Repository {
    /// The table file in the index cache folder.
    static let indexTableName = "table"

    /// Loads every index file that no other index file supersedes into `index`.
    ///
    /// With an index cache folder (`indexCacheFolder`), the index is a memory-mapped table
    /// file there (docs/architecture.md, "The blob index"): used as it is when it holds
    /// exactly the live index files; used with the records of new index files in memory when
    /// backups have added files since (written into a new table once they are many); rebuilt
    /// by an external sort when an index file it holds is gone or superseded, or the file is
    /// damaged. Without a folder, the table is built in a private folder under
    /// `policy.temporaryRoot`, mapped, and its file removed at once, so memory stays bounded
    /// without a cache too. Below `policy.minimumTableBlobs` blobs the index is held in
    /// memory. A table that cannot be written never makes the command fail: the index is
    /// then held in memory.
    ///
    /// An index file that is damaged (or still being written, on a server without atomic
    /// writes) is passed to `skipped` and left out: its packs then look unindexed, so a
    /// backup stores their blobs again and a restore names what it cannot find.
    ///
    /// An index file listed but gone when read was superseded meanwhile: a prune (or `repair
    /// index`) writes the files that replace it before it deletes it. Read without it, the
    /// index would lack its blobs ("not in any index"), so `index/` is listed again and the
    /// index loaded from the new listing, up to `relistings` times.
    ///
    /// - Parameters:
    ///   - listed: the index files, when the caller has just listed them (`check`); `nil` lists them.
    ///   - preloaded: files the caller has already read and verified, used instead of reading them again.
    ///   - relistings: how often to list `index/` again when a listed file is gone; 0 for a
    ///     caller that must see exactly its own listing (`check`, which reports such files).
    public func loadIndex(policy: IndexCachePolicy = IndexCachePolicy(), listed: [IndexID]? = nil,
                          preloaded: [IndexID: IndexFile] = [:], relistings: Int = 4,
                          skipped: (IndexID, Error) -> Void = { _, _ in }) throws {
        var listed = try listed ?? IndexID.all(in: backend.list(.index))
        var complete = true
        var preloaded = preloaded
        var relisted = 0
        var reported: Set<IndexID> = []
        try withoutActuallyEscaping(skipped) { skipped in
            while true {
                var reader = IndexFileReader(repository: self, skipped: { id, error in
                    complete = false
                    if reported.insert(id).inserted { skipped(id, error) }
                }, preloaded: preloaded)
                try loadIndex(listed, policy: policy, reader: &reader)
                guard reader.vanished, relisted < relistings else { break }
                relisted += 1
                preloaded = [:]
                listed = try IndexID.all(in: backend.list(.index))
            }
        }
        // Copies of tree packs a prune elsewhere repacked or deleted are of no use: dropped
        // here, as restic does, so that a machine that only backs up or restores does not keep
        // every tree pack it ever read. Not when an index file was skipped: its packs only look gone.
        if complete { metadataCache?.dropPackCopies { PackID(hex: $0.name).flatMap(index.packSize) != nil } }
    }

    private func loadIndex(_ listed: [IndexID], policy: IndexCachePolicy, reader: inout IndexFileReader) throws {
        guard let folder = indexCacheFolder else {
            return try buildIndexTable(listed, in: .temporary(root: policy.temporaryRoot), policy: policy, reader: &reader)
        }
        let path = "\(folder)/\(Self.indexTableName)"
        if FileManager.default.fileExists(atPath: path), let table = try? MappedIndexTable(path: path, bucketSource: bucketSource),
           try loadIndex(from: table, listed: listed, policy: policy, path: path, reader: &reader) {
            return
        }
        try buildIndexTable(listed, in: .cache(folder: folder), policy: policy, reader: &reader)
    }

    /// Uses `table` when it holds exactly the live files of the table that are still listed.
    /// - Returns: `false` when it does not, so that the caller rebuilds.
    private func loadIndex(from table: MappedIndexTable, listed: [IndexID], policy: IndexCachePolicy,
                           path: String, reader: inout IndexFileReader) throws -> Bool {
        let known = Set(table.files)
        var newFiles: [(id: IndexID, file: IndexFile)] = []
        for id in listed where !known.contains(id) {
            if let file = try reader.read(id) { newFiles.append((id, file)) }
        }
        let present = Set(listed)
        var superseded = Set(table.edges.filter { present.contains($0.0) }.map(\.1))
        for (_, file) in newFiles { superseded.formUnion(file.supersedes) }
        let liveKnown = present.intersection(known).subtracting(superseded)
        guard liveKnown == table.liveFiles else { return false }
        let extra = newFiles.filter { !superseded.contains($0.id) }
        let extraRecords = extra.reduce(0) { $0 + $1.file.packs.reduce(0) { $0 + $1.entries.count } }
        if extraRecords > policy.foldRecords || extra.count > policy.foldFiles {
            do {
                // Every newly listed file, superseded or not, is recorded: it then counts as known.
                try IndexTableBuilder.extend(table, with: newFiles, live: Set(extra.map(\.id)), path: path)
                let merged = try MappedIndexTable(path: path, bucketSource: bucketSource)
                index.load(table: merged, extra: [])
                return true
            } catch {
                if table.isDamaged { return false }  // rebuild from the index files
            }
        }
        index.load(table: table, extra: extra.map(\.file))
        return true
    }

    /// Where a mapped table gets the records of a damaged bucket: this repository's index
    /// files, read again (from the metadata cache when it has them). Held weakly: the table
    /// lives in this repository's index.
    private var bucketSource: MappedIndexTable.BucketSource {
        { [weak self] files, buckets in
            guard let self else { return nil }
            var found: [(pack: PackID, entry: PackEntry)] = []
            for id in files.sorted() {
                guard let file = try? self.loadIndexFile(id) else { return nil }
                for pack in file.packs {
                    for entry in pack.entries where buckets.contains(IndexTableFormat.bucket(of: entry.id.raw)) {
                        found.append((pack.id, entry))
                    }
                }
            }
            return found
        }
    }

    /// Reads the listed index files one at a time into a new table (or into memory, for a
    /// small repository, or when the table cannot be written).
    private func buildIndexTable(_ listed: [IndexID], in place: IndexTablePlace, policy: IndexCachePolicy,
                                 reader: inout IndexFileReader) throws {
        var held: [(id: IndexID, file: IndexFile)] = []
        var heldEntries = 0
        var builder: IndexTableBuilder?
        var folder: String?
        defer { if let folder { place.discard(folder) } }
        do {
            for id in listed {
                guard let file = try reader.read(id) else { continue }
                if let builder {
                    try builder.add(file, id: id)
                    continue
                }
                held.append((id, file))
                heldEntries += file.packs.reduce(0) { $0 + $1.entries.count }
                if heldEntries >= max(1, policy.minimumTableBlobs), let ready = place.prepare() {
                    folder = ready
                    let started = IndexTableBuilder(folder: ready, runLimit: policy.runRecords)
                    for item in held { try started.add(item.file, id: item.id) }
                    held = []
                    builder = started
                }
            }
            guard let builder, let folder else {
                // A stale table in the cache no longer matches and must not be mapped later.
                if case let .cache(cacheFolder) = place { unlink("\(cacheFolder)/\(Self.indexTableName)") }
                index.load(Self.live(held))
                return
            }
            let path = "\(folder)/\(Self.indexTableName)"
            let superseded = Set(builder.edges.map(\.1))
            try builder.finish(path: path, live: Set(builder.files).subtracting(superseded))
            index.load(table: try MappedIndexTable(path: path, bucketSource: bucketSource), extra: [])
        } catch is IndexTableError {
            // The table cannot be written or read back: hold the index in memory instead.
            builder = nil
            try loadIndexInMemory(listed, reader: &reader)
        }
    }

    /// Today's way, and the fallback: every live index file's records in memory.
    private func loadIndexInMemory(_ listed: [IndexID], reader: inout IndexFileReader) throws {
        var files: [(id: IndexID, file: IndexFile)] = []
        for id in listed { if let file = try reader.read(id) { files.append((id, file)) } }
        index.load(Self.live(files))
    }

    /// The files that no file of `files` supersedes.
    private static func live(_ files: [(id: IndexID, file: IndexFile)]) -> [IndexFile] {
        let superseded = Set(files.flatMap(\.file.supersedes))
        return files.filter { !superseded.contains($0.id) }.map(\.file)
    }

    /// Creates the folder with a `CACHEDIR.TAG` (so that backup tools skip it) and touches
    /// its parent, as the cache's stale-folder cleanup expects; `false` when it cannot.
    fileprivate static func prepareIndexFolder(_ folder: String) -> Bool {
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let tag = "\(folder)/CACHEDIR.TAG"
            if !fm.fileExists(atPath: tag) {
                try Data("Signature: 8a477f597d28d172789f06886806bc55\n# snap's blob index table; see docs/cache.md\n".utf8)
                    .write(to: URL(fileURLWithPath: tag), options: .atomic)
            }
        } catch {
            return false
        }
        let parent = String(folder[..<(folder.lastIndex(of: "/") ?? folder.startIndex)])
        if !parent.isEmpty { utimes(parent, nil) }
        return access(folder, W_OK) == 0
    }
}

/// Reads index files for `loadIndex`, reporting each damaged one once.
private struct IndexFileReader {
    let repository: Repository
    let skipped: (IndexID, Error) -> Void
    /// Files read before, each handed out once (a rebuild after a failed table write reads again).
    var preloaded: [IndexID: IndexFile]
    var reported: Set<IndexID> = []
    /// Whether a listed file was gone when read.
    var vanished = false

    /// The file, or `nil` when it is damaged (reported) or was deleted since it was listed.
    mutating func read(_ id: IndexID) throws -> IndexFile? {
        if let file = preloaded.removeValue(forKey: id) { return file }
        do {
            return try repository.loadIndexFile(id)
        } catch let error as RepositoryError {
            if reported.insert(id).inserted { skipped(id, error) }
            return nil
        } catch StorageError.notFound {
            vanished = true
            return nil
        }
    }
}

/// Where `loadIndex` builds a table.
private enum IndexTablePlace {
    /// The repository's index cache folder: the table stays for later commands.
    case cache(folder: String)
    /// A private folder made under `root` for this command: removed once the table is mapped
    /// (the mapping and its descriptor keep the unlinked file until the process ends).
    case temporary(root: String)

    /// The folder to build in, made ready; `nil` when it cannot be (the index stays in memory).
    func prepare() -> String? {
        switch self {
        case let .cache(folder):
            guard Repository.prepareIndexFolder(folder) else { return nil }
            IndexTableBuilder.removeLeftovers(in: folder)
            return folder
        case let .temporary(root):
            Self.removeLeftovers(in: root)
            var template = Array("\(root)/\(Self.temporaryPrefix)XXXXXX".utf8CString)
            return template.withUnsafeMutableBufferPointer { buffer -> String? in
                guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
                return String(cString: base)
            }
        }
    }

    /// Called when the build is over, whether it succeeded or not.
    func discard(_ folder: String) {
        if case .temporary = self { try? FileManager.default.removeItem(atPath: folder) }
    }

    static let temporaryPrefix = "snap-index-"

    /// Folders of builds that were killed before they could remove their own: a build takes
    /// minutes, so one untouched for a day is left over. Others' folders are not ours to
    /// remove (and a sticky `/tmp` refuses).
    private static func removeLeftovers(in root: String) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: root) else { return }
        let limit = Date().addingTimeInterval(-86_400)
        for name in names where name.hasPrefix(temporaryPrefix) {
            let path = "\(root)/\(name)"
            guard let attributes = try? fm.attributesOfItem(atPath: path),
                  (attributes[.ownerAccountID] as? NSNumber)?.uint32Value == getuid(),
                  let modified = attributes[.modificationDate] as? Date, modified < limit else { continue }
            try? fm.removeItem(atPath: path)
        }
    }
}
