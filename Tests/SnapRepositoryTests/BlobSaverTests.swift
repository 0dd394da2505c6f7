import XCTest
import Dispatch
import Synchronization
import SnapCore
import SnapCrypto
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

final class BlobSaverTests: XCTestCase {
    /// 96 distinct blobs: random and compressible halves, every fourth one a tree.
    private func sampleBlobs() -> [(BlobType, [UInt8])] {
        (0..<96).map { i in
            let bytes = i % 2 == 0 ? seededBytes(count: 30_000 + i, seed: UInt64(i)) : compressibleBytes(count: 30_000 + i, seed: UInt8(i))
            return (i % 4 == 3 ? .tree : .data, bytes)
        }
    }

    // Saving from many threads (each blob offered twice) stores every blob exactly once, and a fresh open finds them all intact.
    func testConcurrentSavesAreAllLoadableAfterReopen() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend, password: "pw", options: cheapOptions(packSize: 1 << 20))
        let blobs = sampleBlobs()
        let ids = blobs.map { repository.keys.blobID(of: $0.1) }
        let saver = BlobSaver(repository: repository, packsPerIndex: 2)
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: blobs.count * 2) { i in
            let n = i % blobs.count
            guard saver.reserve(ids[n]) else { return }
            do { try saver.save(blobs[n].0, id: ids[n], plaintext: blobs[n].1) } catch {
                failures.withLock { $0.append("blob \(n): \(error)") }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        let stats = try saver.finish()
        XCTAssertEqual(stats.blobs, blobs.count)
        XCTAssertEqual(stats.dataBlobs, blobs.filter { $0.0 == .data }.count)
        XCTAssertGreaterThanOrEqual(stats.packs, 3, "about 1.5 MiB of random data and the tree pack make at least three packs")
        XCTAssertEqual(stats.packs, try backend.list(.data).count)
        XCTAssertEqual(stats.indexFiles, try backend.list(.index).count)

        var stored: [BlobID] = []
        for info in try backend.list(.data) {
            let packID = try XCTUnwrap(PackID(hex: info.file.name))
            stored += try PackFormat.readHeader(of: packID, size: info.size, from: backend, keys: repository.keys).entries.map(\.id)
        }
        XCTAssertEqual(stored.count, blobs.count, "no blob is stored twice")
        XCTAssertEqual(Set(stored), Set(ids))

        let reopened = try Repository.open(backend: backend, password: "pw")
        try reopened.loadIndex()
        XCTAssertEqual(reopened.index.count, blobs.count)
        let decoder = try BlobDecoder(keys: reopened.keys)
        for (n, id) in ids.enumerated() {
            XCTAssertTrue(sameBytes(try reopened.loadBlob(id, decoder: decoder), blobs[n].1), "blob \(n)")
            XCTAssertEqual(reopened.index.lookup(id)?.entry.type, blobs[n].0, "blob \(n)")
        }
    }

    // Saves from eight threads fill at most `openDataPacks` packs at once (each pack is a
    // staged file), and the partly filled ones are merged at the end: 800 kB of blobs end in
    // one pack, which verifies, and every blob loads.
    func testConcurrentSavesFillAtMostTheOpenPacksAllowedAndEndInOnePack() throws {
        let backend = StagingBackend()
        let repository = try makeRepository(on: backend)
        let saver = BlobSaver(repository: repository, openDataPacks: 3)
        let blobs = (0..<400).map { seededBytes(count: 2_000 + $0, seed: UInt64(3_000 + $0)) }
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for n in stride(from: worker, to: blobs.count, by: 8) {
                let id = repository.keys.blobID(of: blobs[n])
                guard saver.reserve(id) else { continue }
                do { try saver.save(.data, id: id, plaintext: blobs[n]) } catch { failures.withLock { $0.append("\(n): \(error)") } }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        let stats = try saver.finish()
        XCTAssertEqual(stats.blobs, blobs.count)
        XCTAssertLessThanOrEqual(backend.stagedFiles.withLock { $0 }, 3, "no more packs open than permitted")
        XCTAssertEqual(stats.packs, 1, "800 kB in 16 MiB packs: the partly filled packs were merged")
        let pack = try XCTUnwrap(try backend.list(.data).first)
        XCTAssertEqual(try repository.verifyPack(try XCTUnwrap(PackID(hex: pack.file.name))).entries.count, blobs.count)
        for blob in blobs { XCTAssertTrue(sameBytes(try repository.loadBlob(repository.keys.blobID(of: blob)), blob)) }
    }

    // Merging moves the smallest partly filled packs into the largest while they fit, and
    // keeps the rest: compressed and raw blobs read back from their new places.
    func testMergedMovesSmallPacksIntoTheLargestWhileTheyFit() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let backend = LocalBackend(root: directory.path)
        let repository = try makeRepository(on: backend)
        func writer(_ blobs: [[UInt8]]) throws -> PackWriter {
            let w = try PackWriter(type: .data, keys: repository.keys, file: backend.makeStagedFile())
            for blob in blobs { try blob.withUnsafeBytes { try w.add(id: repository.keys.blobID(of: blob), body: $0, rawLength: blob.count) } }
            return w
        }
        let big = try writer([seededBytes(count: 600_000, seed: 1)])
        let small = try writer([seededBytes(count: 100_000, seed: 2), seededBytes(count: 50, seed: 3)])
        let middle = try writer([seededBytes(count: 500_000, seed: 4)])
        let kept = try BlobSaver.merged([small, big, middle], packSize: 800_000)
        XCTAssertEqual(kept.count, 2, "the small pack fits into the big one; the middle one does not")
        XCTAssertEqual(kept.map(\.entries.count).sorted(), [1, 3])
        // Finished, stored and indexed as the saver's upload does it.
        for w in kept {
            let pack = try w.finish(padding: 0)
            try backend.write(FileName(.data, pack.id.hex), staged: pack.file)
            repository.index.add(IndexedPack(id: pack.id, salt: pack.salt, size: pack.file.size, entries: pack.entries))
        }
        for (seed, count) in [(1, 600_000), (2, 100_000), (3, 50), (4, 500_000)] {
            let blob = seededBytes(count: count, seed: UInt64(seed))
            XCTAssertTrue(sameBytes(try repository.loadBlob(repository.keys.blobID(of: blob)), blob), "seed \(seed)")
        }
    }

    // Packs built in the memory of earlier, uploaded packs (a local backend keeps no
    // reference to what it wrote) are whole and correct: every pack verifies and every
    // blob reads back.
    func testPacksInReusedMemoryVerify() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let backend = LocalBackend(root: directory.path)
        let repository = try makeRepository(on: backend, options: cheapOptions(packSize: 1 << 20))
        let blobs = (0..<40).map { seededBytes(count: 180_000 + $0 * 13, seed: UInt64(500 + $0)) }
        let saver = BlobSaver(repository: repository, uploadThreads: 1)
        for blob in blobs {
            let id = repository.keys.blobID(of: blob)
            XCTAssertTrue(saver.reserve(id))
            try saver.save(.data, id: id, plaintext: blob)
        }
        let stats = try saver.finish()
        XCTAssertGreaterThanOrEqual(stats.packs, 6, "7 MB in 1 MiB packs")
        for info in try backend.list(.data) {
            XCTAssertNoThrow(try repository.verifyPack(try XCTUnwrap(PackID(hex: info.file.name))), info.file.description)
        }
        for blob in blobs {
            XCTAssertTrue(sameBytes(try repository.loadBlob(repository.keys.blobID(of: blob)), blob))
        }
    }

    // Blobs larger than the pack writer's batch (after which it gives its buffer back) sit
    // between small ones (batched in memory) in one pack: the pack verifies and every blob loads.
    func testLargeAndSmallBlobsShareAPack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let backend = LocalBackend(root: directory.path)
        let repository = try makeRepository(on: backend)
        let batch = PackWriter.batchSize
        let sizes = [100, batch + 1, 50, 3 * batch + 17, batch, 10, batch - 5, 2 * batch]
        let blobs = sizes.enumerated().map { seededBytes(count: $0.element, seed: UInt64(900 + $0.offset)) }
        try saveAndFinish(repository, blobs.map { (.data, $0) })
        let packs = try backend.list(.data)
        XCTAssertEqual(packs.count, 1)
        for info in packs {
            XCTAssertEqual(try repository.verifyPack(try XCTUnwrap(PackID(hex: info.file.name))).entries.count, blobs.count)
        }
        for blob in blobs {
            XCTAssertTrue(sameBytes(try repository.loadBlob(repository.keys.blobID(of: blob)), blob))
        }
    }

    // Concurrent reserve calls grant each ID exactly once; once stored, an ID is never granted again, even to a new saver.
    func testReserveGrantsEachIDOnce() throws {
        let repository = try makeRepository()
        let saver = BlobSaver(repository: repository)
        let ids = (0..<50).map { repository.keys.blobID(of: [UInt8($0)]) }
        let grants = Mutex<[BlobID: Int]>([:])
        DispatchQueue.concurrentPerform(iterations: 1000) { i in
            let id = ids[i % ids.count]
            if saver.reserve(id) { grants.withLock { $0[id, default: 0] += 1 } }
        }
        let counts = grants.withLock { $0 }
        XCTAssertEqual(counts.count, ids.count)
        XCTAssertTrue(counts.values.allSatisfy { $0 == 1 }, "\(counts.values.sorted())")

        for (n, id) in ids.enumerated() { try saver.save(.data, id: id, plaintext: [UInt8(n)]) }
        _ = try saver.finish()
        XCTAssertFalse(ids.contains { saver.reserve($0) })
        let other = BlobSaver(repository: repository)
        XCTAssertFalse(ids.contains { other.reserve($0) })
        XCTAssertTrue(other.reserve(repository.keys.blobID(of: [1, 2, 3])))
    }

    // Packs holding enough blobs get an index file before the pack count is reached: the
    // entries waiting for an index file stay few even when blobs are small.
    func testIndexFileIsDueAfterEnoughBlobs() throws {
        let backend = RecordingBackend()
        let repository = try makeRepository(on: backend, options: cheapOptions(packSize: 1 << 20))
        let saver = BlobSaver(repository: repository, packsPerIndex: 64, blobsPerIndex: 100)
        for n in 0..<600 {
            let blob = seededBytes(count: 5000, seed: UInt64(1000 + n))
            let id = repository.keys.blobID(of: blob)
            if saver.reserve(id) { try saver.save(.data, id: id, plaintext: blob) }
        }
        let stats = try saver.finish()
        let writes = backend.writes
        XCTAssertEqual(stats.packs, 3, "600 blobs of 5 kB fill two 1 MiB packs and start a third")
        XCTAssertEqual(writes.filter { $0.kind == .index }.count, 3, "every pack has over 100 blobs, so each gets its own index file")
        XCTAssertEqual(stats.indexFiles, 3)
    }

    // Every index file is written after the packs it names, and every pack ends up named by an index file.
    func testPacksAreWrittenBeforeTheirIndexFiles() throws {
        let backend = RecordingBackend()
        let repository = try makeRepository(on: backend, options: cheapOptions(packSize: 1 << 20))
        let blobs: [(BlobType, [UInt8])] = (0..<48).map { (.data, seededBytes(count: 60_000, seed: UInt64(100 + $0))) }
            + [(.tree, compressibleBytes(count: 500))]
        try saveAndFinish(repository, blobs, packsPerIndex: 1)

        let writes = backend.writes
        let packWrites = writes.indices.filter { writes[$0].kind == .data }
        let indexWrites = writes.indices.filter { writes[$0].kind == .index }
        XCTAssertGreaterThanOrEqual(packWrites.count, 3)
        // packsPerIndex 1 writes an index file as soon as a pack is stored; two uploads that
        // finish together share one (the second pack is already waiting when the first
        // writes), so there may be fewer index files than packs, but not one at the end only.
        XCTAssertLessThanOrEqual(indexWrites.count, packWrites.count)
        XCTAssertGreaterThan(indexWrites.count, 1, "index files are written as packs arrive")
        var named: Set<String> = []
        for position in indexWrites {
            let file = try repository.loadIndexFile(try XCTUnwrap(IndexID(hex: writes[position].name)))
            for pack in file.packs {
                let written = try XCTUnwrap(writes.firstIndex(of: FileName(.data, pack.id.hex)), "index names an unwritten pack")
                XCTAssertLessThan(written, position, "pack \(pack.id.short) written after the index naming it")
                named.insert(pack.id.hex)
            }
        }
        XCTAssertEqual(named, Set(packWrites.map { writes[$0].name }))
    }

    // Data and tree blobs go to different packs, as each pack header shows.
    func testDataAndTreeBlobsGoToSeparatePacks() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend)
        let blobs: [(BlobType, [UInt8])] = [(.data, [1]), (.tree, [2]), (.data, [3]), (.tree, [4]), (.data, [5])]
        let ids = try saveAndFinish(repository, blobs)
        let packs = try backend.list(.data)
        XCTAssertEqual(packs.count, 2)
        var typeOfBlob: [BlobID: BlobType] = [:]
        for info in packs {
            let header = try PackFormat.readHeader(of: try XCTUnwrap(PackID(hex: info.file.name)), size: info.size,
                                                   from: backend, keys: repository.keys)
            XCTAssertEqual(Set(header.entries.map(\.type)).count, 1, "a pack mixes blob types")
            for e in header.entries { typeOfBlob[e.id] = e.type }
        }
        XCTAssertEqual(typeOfBlob, Dictionary(uniqueKeysWithValues: zip(ids, blobs.map(\.0))))
    }

    // Compressible blobs are stored zstd-compressed and shorter; random blobs are stored as they are.
    func testOnlyCompressibleBlobsAreCompressed() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend)
        let text = compressibleBytes(count: 20_000)
        let noise = seededBytes(count: 20_000, seed: 7)
        let ids = try saveAndFinish(repository, [(.data, text), (.data, noise)])
        let fresh = try Repository.open(backend: backend, password: "correct horse")
        try fresh.loadIndex()
        let packed = try XCTUnwrap(fresh.index.lookup(ids[0])).entry
        let plain = try XCTUnwrap(fresh.index.lookup(ids[1])).entry
        XCTAssertTrue(packed.isCompressed)
        XCTAssertLessThan(packed.length, 2_000)
        XCTAssertEqual(packed.rawLength, 20_000)
        XCTAssertFalse(plain.isCompressed)
        XCTAssertEqual(plain.length, 20_000 + 16)
        XCTAssertEqual(try fresh.loadBlob(ids[0]), text)
        XCTAssertEqual(try fresh.loadBlob(ids[1]), noise)
    }

    // Packs, index files and files written with saveFile are named by the SHA-256 of their bytes.
    func testFilesAreNamedBySHA256OfTheirBytes() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend)
        try saveAndFinish(repository, [(.data, compressibleBytes(count: 3000)), (.tree, [9, 9, 9])])
        let snapshot = try repository.saveFile(.snapshots, plaintext: Array("{\"time\":\"now\"}".utf8))
        let files = try backend.list(.data) + backend.list(.index) + backend.list(.snapshots)
        XCTAssertEqual(files.map(\.file.kind).filter { $0 == .data }.count, 2)
        XCTAssertEqual(files.map(\.file.kind).filter { $0 == .index }.count, 1)
        XCTAssertEqual(files.map(\.file.name).filter { $0 == snapshot.hex }.count, 1)
        for info in files {
            let bytes = try backend.read(info.file)
            XCTAssertEqual(Hex.encode(SHA256.hash(bytes)), info.file.name, "\(info.file)")
            XCTAssertEqual(bytes.count, info.size)
        }
        XCTAssertEqual(try repository.loadFile(FileName(.snapshots, snapshot.hex)), Array("{\"time\":\"now\"}".utf8))
    }

    // A blob saved earlier in the same command is loadable before finish only once its pack is uploaded.
    func testFinishUploadsOpenPacks() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(on: backend)
        let saver = BlobSaver(repository: repository)
        let id = repository.keys.blobID(of: [42])
        XCTAssertTrue(saver.reserve(id))
        try saver.save(.data, id: id, plaintext: [42])
        XCTAssertEqual(try backend.list(.data).count, 0, "a small pack stays open until finish")
        guard case .blobNotFound? = errorThrown(by: { _ = try repository.loadBlob(id) }) as? RepositoryError else {
            return XCTFail("an unwritten blob must not be found")
        }
        let stats = try saver.finish()
        XCTAssertEqual([stats.packs, stats.indexFiles, stats.blobs], [1, 1, 1])
        XCTAssertEqual(try repository.loadBlob(id), [42])
    }

    // A pack whose staged file cannot be written (a full disk, say) is never stored: the save
    // that hit the failure throws, a later save into that pack throws too, and `finish`
    // throws instead of writing an index that would name blobs the pack lacks.
    func testAFailedPackWriteFailsFinish() throws {
        let backend = StagingBackend(stage: unwritableStagedFile)
        let repository = try makeRepository(on: backend)
        let saver = BlobSaver(repository: repository)
        let large = seededBytes(count: PackWriter.batchSize + 1000, seed: 7)
        let largeID = repository.keys.blobID(of: large)
        XCTAssertTrue(saver.reserve(largeID))
        XCTAssertNotNil(errorThrown(by: { try saver.save(.data, id: largeID, plaintext: large) }),
                        "a blob over one batch is written at once, and the write fails")
        let small = [UInt8](repeating: 1, count: 10)
        let smallID = repository.keys.blobID(of: small)
        XCTAssertTrue(saver.reserve(smallID))
        XCTAssertNotNil(errorThrown(by: { try saver.save(.data, id: smallID, plaintext: small) }),
                        "the failed pack is the idle one, and it refuses more blobs")
        XCTAssertNotNil(errorThrown(by: { _ = try saver.finish() }))
        XCTAssertEqual(try backend.list(.data).count, 0)
        XCTAssertEqual(try backend.list(.index).count, 0)
    }
}

/// A memory backend whose staged files (packs being assembled) come from `stage`, counted.
private final class StagingBackend: ForwardingBackend, @unchecked Sendable {
    private let stage: () throws -> StagedFile
    let stagedFiles = Mutex(0)
    init(stage: @escaping () throws -> StagedFile = StagedFile.temporary) {
        self.stage = stage
        super.init(MemoryBackend())
    }
    override func makeStagedFile() throws -> StagedFile {
        stagedFiles.withLock { $0 += 1 }
        return try stage()
    }
}

/// A staged file that refuses writes, as on a broken disk: its descriptor is replaced by a
/// read-only one, so `pwrite` fails.
private func unwritableStagedFile() throws -> StagedFile {
    let file = try StagedFile.temporary()
    let readOnly = open("/dev/null", O_RDONLY)
    guard readOnly >= 0, dup2(readOnly, file.descriptor) >= 0 else { throw POSIXError(.EIO) }
    close(readOnly)
    return file
}
