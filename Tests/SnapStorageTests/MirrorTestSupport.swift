import Synchronization
import SnapStorage
import SnapTestSupport

/// A 64-hex-digit name derived from content: four FNV-1a hashes with different offsets.
/// SnapStorage's tests do not link SnapCrypto, and mirrors only need some name that
/// commits to the bytes.
func checksumName(_ bytes: [UInt8]) -> String {
    (0..<4).map { round -> String in
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 &+ UInt64(round) &* 0x9e37_79b9_7f4a_7c15
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }.joined()
}

/// Accepts bytes whose `checksumName` is the file's name.
let verifyChecksum: NameVerifier = { file, bytes in checksumName(bytes) == file.name }

/// A content-named file of `kind` holding `count` bytes made from `seed`.
func namedFile(_ kind: FileKind, seed: UInt64, count: Int = 300) -> (file: FileName, bytes: [UInt8]) {
    let bytes = seededBytes(count: count, seed: seed)
    return (FileName(kind, checksumName(bytes)), bytes)
}

/// Collects the lines a mirror reports.
final class Warnings: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    var report: @Sendable (String) -> Void { { [self] line in lines.withLock { $0.append(line) } } }
    func contain(_ text: String) -> Bool { all.contains { $0.contains(text) } }
}

/// Records the writes and deletes that reach a backend, in order.
final class RecordingBackend: ForwardingBackend, @unchecked Sendable {
    enum Event: Equatable { case write(FileName), delete(FileName) }

    private let log = Mutex<[Event]>([])

    var events: [Event] { log.withLock { $0 } }
    var writes: [FileName] { events.compactMap { if case let .write(f) = $0 { return f } else { return nil } } }
    var deletes: [FileName] { events.compactMap { if case let .delete(f) = $0 { return f } else { return nil } } }

    override func write(_ file: FileName, data: [UInt8]) throws {
        try base.write(file, data: data)
        log.withLock { $0.append(.write(file)) }
    }

    override func delete(_ file: FileName) throws {
        try base.delete(file)
        log.withLock { $0.append(.delete(file)) }
    }
}

/// Replicas named `a`, `b`, `c`, … over the given backends.
func replicas(_ backends: [Backend]) -> [Replica] {
    backends.enumerated().map { i, backend in
        Replica(name: String(UnicodeScalar(UInt8(97 + i))), backend: backend)
    }
}

/// The names of every file of the mirrored kinds on a backend.
func fileSet(_ backend: Backend) throws -> Set<FileName> {
    var files: Set<FileName> = []
    for kind in [FileKind.config, .keys, .data, .index, .snapshots] {
        files.formUnion(try backend.list(kind).map(\.file))
    }
    return files
}
