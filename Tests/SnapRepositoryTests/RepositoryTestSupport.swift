import Foundation
import XCTest
import Synchronization
import SnapCore
import SnapCrypto
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

/// scrypt N = 1024, r = 8, p = 1: about a millisecond, so tests can open repositories freely.
let cheapKeyCost = Scrypt.Parameters(n: 1024, r: 8, p: 1)

/// Init options with the cheap key cost and otherwise the defaults.
func cheapOptions(packSize: Int = RepositoryConfig.defaultPackSize) -> Repository.InitOptions {
    var options = Repository.InitOptions()
    options.keyCost = cheapKeyCost
    options.packSize = packSize
    return options
}

/// Creates a repository on `backend` with a cheap key.
@discardableResult
func makeRepository(on backend: Backend = MemoryBackend(), password: String = "correct horse",
                    options: Repository.InitOptions = cheapOptions()) throws -> Repository {
    try Repository.initialize(backend: backend, password: password, options: options,
                              hostname: "test-host", username: "tester", now: "2025-01-01T00:00:00Z")
}

/// `count` bytes of repetitive text (zstd shrinks it a lot), varied by `seed`.
func compressibleBytes(count: Int, seed: UInt8 = 0) -> [UInt8] {
    let line = Array("the quick brown fox jumps over the lazy dog \(seed)\n".utf8)
    return (0..<count).map { line[$0 % line.count] }
}

/// Reserves and saves each blob with a fresh saver, then finishes it.
@discardableResult
func saveAndFinish(_ repository: Repository, _ blobs: [(BlobType, [UInt8])], packsPerIndex: Int = 64) throws -> [BlobID] {
    let saver = BlobSaver(repository: repository, packsPerIndex: packsPerIndex)
    var ids: [BlobID] = []
    for (type, plaintext) in blobs {
        let id = repository.keys.blobID(of: plaintext)
        if saver.reserve(id) { try saver.save(type, id: id, plaintext: plaintext) }
        ids.append(id)
    }
    _ = try saver.finish()
    return ids
}

/// Decodes lower-case hex written with optional spaces and line breaks; traps on a typo.
func hex(_ text: String) -> [UInt8] {
    let digits = text.utf8.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") }
    guard let bytes = Hex.decode(String(decoding: digits, as: UTF8.self)) else { preconditionFailure("bad hex literal") }
    return bytes
}

/// The error `body` throws, or `nil` when it returns.
func errorThrown(by body: () throws -> Void) -> Error? {
    do { try body(); return nil } catch { return error }
}

/// Whether `error` is `RepositoryError.damaged`.
func isDamaged(_ error: Error?) -> Bool {
    if case .damaged? = error as? RepositoryError { return true }
    return false
}

/// Flips bit `position % 8` of byte `position` of `file`.
func flipBit(_ backend: MemoryBackend, _ file: FileName, at position: Int) {
    backend.tamper(file) { $0[position] ^= UInt8(1) << UInt8(position % 8) }
}

/// A memory backend that remembers the order of its writes.
final class RecordingBackend: ForwardingBackend, @unchecked Sendable {
    let inner: MemoryBackend
    private let log = Mutex<[FileName]>([])

    init() {
        inner = MemoryBackend(location: "recording:")
        super.init(inner)
    }

    /// Every file written so far, in order.
    var writes: [FileName] { log.withLock { $0 } }

    override func write(_ file: FileName, data: [UInt8]) throws {
        try base.write(file, data: data)
        log.withLock { $0.append(file) }
    }
}

/// A test case with a fresh cache root for `Repository.open`, removed afterwards.
class CacheRootTestCase: XCTestCase {
    var cacheRoot = ""

    override func setUpWithError() throws {
        cacheRoot = NSTemporaryDirectory() + "snap-cache-root-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: cacheRoot) }

    /// Opens the repository on `backend` with the cache root; the requests the open made.
    func open(_ backend: Backend, _ password: String) throws -> (Repository, RequestCounts) {
        let counting = CountingBackend(backend)
        let repository = try Repository.open(backend: counting, password: password, cacheRoot: cacheRoot)
        return (repository, counting.counts)
    }
}
