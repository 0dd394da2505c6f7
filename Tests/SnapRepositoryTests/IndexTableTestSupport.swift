import XCTest
import SnapCore
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

/// Synthetic index contents for the index table tests.
enum SyntheticIndex {
    static func rawID(_ seed: UInt64) -> RawID { RawID(bytes: seededBytes(count: 32, seed: seed))! }

    /// An indexed pack with `count` synthetic entries whose IDs come from seeds `firstSeed...`.
    static func pack(_ packSeed: UInt64, firstSeed: UInt64, count: Int, type: BlobType = .data) -> IndexedPack {
        let entries = (0..<count).map { (n: Int) -> PackEntry in
            let length = UInt32(16 + n % 90)
            return PackEntry(type: n % 7 == 0 ? .tree : type, id: BlobID(raw: rawID(firstSeed + UInt64(n))),
                             offset: UInt32(n * 100), length: length, rawLength: length + UInt32(n))
        }
        return IndexedPack(id: PackID(raw: rawID(packSeed)), salt: seededBytes(count: 24, seed: packSeed + 1),
                           size: count * 100 + 200, entries: entries)
    }

    /// Builds a table of `files` (all live) in `folder` with small runs, so that the external sort spills.
    static func table(_ files: [IndexFile], in folder: String, runLimit: Int = 700) throws -> MappedIndexTable {
        let builder = IndexTableBuilder(folder: folder, runLimit: runLimit)
        for (n, file) in files.enumerated() { try builder.add(file, id: IndexID(raw: rawID(900_000_000 + UInt64(n)))) }
        let path = "\(folder)/table"
        try builder.finish(path: path, live: Set(builder.files))
        return try MappedIndexTable(path: path)
    }
}

/// How a test's `BlobIndex` holds its sorted part.
enum IndexBacking: CaseIterable {
    case memory, mapped

    /// A fresh index loaded with `files` in this backing.
    func index(_ files: [IndexFile], folder: TemporaryDirectory) throws -> BlobIndex {
        let index = BlobIndex()
        try load(index, files, folder: folder)
        return index
    }

    /// Replaces `index`'s contents with `files` in this backing.
    func load(_ index: BlobIndex, _ files: [IndexFile], folder: TemporaryDirectory) throws {
        switch self {
        case .memory:
            index.load(files)
        case .mapped:
            let sub = folder.appending(UUID().uuidString)
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            index.load(table: try SyntheticIndex.table(files, in: sub), extra: [])
        }
    }
}
