import Foundation
import SnapCore
import SnapCrypto
@testable import SnapEngine
@testable import SnapRemote
@testable import SnapRepository
import SnapStorage

/// The decoders under test, one per kind of untrusted bytes (docs/fuzzing.md).
enum FuzzTarget: String, CaseIterable {
    /// `keys/ID`: JSON, then the checks before scrypt, then the payload under a fixed KEK.
    case keyfile
    /// `config` plaintext (JSON).
    case config
    /// Index file plaintext.
    case index
    /// Pack header plaintext.
    case packheader
    /// A whole pack file (trailer, header length, encrypted header) under the test keys;
    /// the first byte sets how much larger the listed size is than the bytes (short reads).
    case pack
    /// Tree blob plaintext.
    case tree
    /// Snapshot plaintext (JSON).
    case snapshot
    /// Lock or deletion-mark plaintext (JSON).
    case lock
    /// The encrypted envelope of config, index, snapshot and lock files under the test
    /// keys; the first byte picks the kind, and a file that opens goes to its decoder.
    case envelope
    /// S3 XML: ListObjectsV2 pages and error bodies.
    case s3xml
    /// REST protocol v2 listings.
    case rest
    /// RFC 3339 times (snapshots, locks).
    case time
    /// Tar streams (`backup --stdin-tar`): every member and its content.
    case tar

    func run(_ bytes: [UInt8]) {
        switch self {
        case .keyfile: Decoders.keyFile(bytes)
        case .config: Decoders.config(bytes)
        case .index: Decoders.index(bytes)
        case .packheader: Decoders.packHeader(bytes)
        case .pack: Decoders.pack(bytes)
        case .tree: Decoders.tree(bytes)
        case .snapshot: Decoders.snapshot(bytes)
        case .lock: Decoders.lock(bytes)
        case .envelope: Decoders.envelope(bytes)
        case .s3xml: Decoders.s3XML(bytes)
        case .rest: Decoders.rest(bytes)
        case .time: Decoders.time(bytes)
        case .tar: Decoders.tar(bytes)
        }
    }
}

/// Fixed keys, so that seeds sealed under them open and mutations reach the plaintext decoders.
let testKeys = MasterKeys(encryption: [UInt8](repeating: 0x11, count: 32), id: [UInt8](repeating: 0x22, count: 32),
                          chunker: [UInt8](repeating: 0x33, count: 32))
/// A fixed key-encryption key for key files: the fuzzer never runs scrypt.
let testKEK = [UInt8](repeating: 0x44, count: 32)

/// A property every decoder must keep; a violation is a finding, so stop for libFuzzer to record it.
func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz property violated: \(message())") }
}

/// Runs a decoder that may only fail with the error types its callers handle.
func decoding<T>(_ what: String, _ body: () throws -> T, allowing allowed: (Error) -> Bool) -> T? {
    do {
        return try body()
    } catch {
        expect(allowed(error), "\(what) threw an unexpected error: \(error)")
        return nil
    }
}

func isRepositoryError(_ error: Error) -> Bool { error is RepositoryError }
func isDecodingFailure(_ error: Error) -> Bool { error is DecodingFailure }

enum Decoders {
    static func keyFile(_ bytes: [UInt8]) {
        guard let file = decoding("KeyFile.decode", { try KeyFile.decode(bytes, name: "fuzz") }, allowing: isRepositoryError),
              let sealed = decoding("KeyFile.sealedPayload", { try file.sealedPayload() }, allowing: isRepositoryError)
        else { return }
        expect(sealed.cost.n > 1 && sealed.cost.n <= 1 << 24 && sealed.cost.r <= 64 && sealed.cost.p <= 64, "cost not bounded")
        _ = decoding("KeyFile.open", { try file.open(sealed.bytes, kek: testKEK) }, allowing: isRepositoryError)
    }

    static func config(_ bytes: [UInt8]) {
        guard let config = decoding("config", { try JSONCoding.decode(RepositoryConfig.self, bytes, file: "config") },
                                    allowing: isRepositoryError) else { return }
        _ = config.problem
        roundTrip(config, file: "config")
    }

    static func index(_ bytes: [UInt8]) {
        guard let file = decoding("IndexFile.decode", { try IndexFile.decode(bytes) }, allowing: isDecodingFailure) else { return }
        expect(file.encoded() == bytes, "index decoding is not canonical")
    }

    static func packHeader(_ bytes: [UInt8]) {
        guard let entries = decoding("decodeHeader", { try PackFormat.decodeHeader(bytes) }, allowing: isDecodingFailure) else { return }
        let encoded = PackFormat.encodeHeader(entries, padding: 0)
        expect(bytes.starts(with: encoded), "pack header decoding is not canonical")
    }

    static func pack(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let data = Array(bytes.dropFirst())
        let listedSize = data.count + Int(first)
        let pack = PackID(raw: RawID(w0: 0, w1: 0, w2: 0, w3: 0))
        let read = { (range: Range<Int>) throws -> [UInt8] in
            expect(range.lowerBound >= 0 && range.upperBound <= listedSize, "read \(range) outside the listed size \(listedSize)")
            // A server may hold fewer bytes than its listing said: read what there is.
            return Array(data[min(range.lowerBound, data.count)..<min(range.upperBound, data.count)])
        }
        guard let header = decoding("readHeader", { try PackFormat.readHeader(of: pack, size: listedSize, keys: testKeys, read: read) },
                                    allowing: isRepositoryError) else { return }
        expect(header.salt.count == PackFormat.saltLength, "salt of \(header.salt.count) bytes")
    }

    static func tree(_ bytes: [UInt8]) {
        guard let tree = decoding("Tree.decode", { try Tree.decode(bytes) }, allowing: isDecodingFailure) else { return }
        expect(tree.encoded() == bytes, "tree decoding is not canonical")
        for node in tree.nodes { expect(tree.node(named: node.name) == node, "lookup of a decoded name fails") }
    }

    static func snapshot(_ bytes: [UInt8]) {
        guard let snapshot = decoding("snapshot", { try JSONCoding.decode(Snapshot.self, bytes, file: "snapshots/fuzz") },
                                      allowing: isRepositoryError) else { return }
        _ = snapshot.timestamp
        _ = SnapshotFilter(hosts: ["h"], paths: ["/p"], tags: ["a,b", ""]).matches(snapshot)
        roundTrip(snapshot, file: "snapshots/fuzz")
    }

    static func lock(_ bytes: [UInt8]) {
        guard let record = decoding("lock", { try JSONCoding.decode(CoordinationRecord.self, bytes, file: "locks/fuzz") },
                                    allowing: isRepositoryError) else { return }
        _ = (RFC3339.parse(record.created), record.refreshedTime, record.holder)
        roundTrip(record, file: "locks/fuzz")
    }

    static let envelopeKinds: [FileKind] = [.config, .index, .snapshots, .locks]

    static func envelope(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let kind = envelopeKinds[Int(first) % envelopeKinds.count]
        let file = kind == .config ? FileName.config : FileName(kind, String(repeating: "0", count: 64))
        guard let plaintext = decoding("EncryptedFile.open", { try EncryptedFile.open(Array(bytes.dropFirst()), file: file, keys: testKeys) },
                                       allowing: isRepositoryError) else { return }
        switch kind {
        case .config: config(plaintext)
        case .index: index(plaintext)
        case .snapshots: snapshot(plaintext)
        default: lock(plaintext)
        }
    }

    static func s3XML(_ bytes: [UInt8]) {
        if let node = S3XMLNode.parse(bytes) { _ = (node.child("Contents"), node.text(of: "Key")) }
        _ = S3ErrorBody(bytes)
        // One folder, and several listed together (`S3Backend.list(kinds:)`).
        for kinds: Set<FileKind> in [[.data], [.snapshots], [.data, .index, .locks, .snapshots]] {
            guard let page = S3Backend.listPage(bytes, root: "repo/", kinds: kinds) else { continue }
            for entry in page.files {
                expect(entry.key.hasPrefix("repo/") && kinds.contains(entry.info.file.kind), "listed key \(entry.key) as \(entry.info.file)")
                checkListed(entry.info, kind: entry.info.file.kind)
            }
        }
    }

    static func rest(_ bytes: [UInt8]) {
        for info in RESTListing.files(bytes, kind: .index) ?? [] { checkListed(info, kind: .index) }
    }

    static func time(_ bytes: [UInt8]) {
        guard let t = RFC3339.parse(String(decoding: bytes, as: UTF8.self)) else { return }
        expect(t.nanoseconds < 1_000_000_000, "nanoseconds \(t.nanoseconds)")
    }

    /// Reads every member and up to 4 MiB of each file's content (holes of a hostile sparse
    /// member could be terabytes of zeros).
    static func tar(_ bytes: [UInt8]) {
        var at = 0
        let reader = TarReader { space in
            let n = min(space.count, 4096, bytes.count - at)
            bytes.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[at..<at + n])) }
            at += n
            return n
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let cap: UInt64 = 4 << 20
        _ = decoding("tar", {
            while let entry = try reader.next() {
                expect(!entry.path.isEmpty, "a member without a name")
                var end: UInt64 = 0
                for segment in entry.sparse ?? [] {
                    expect(segment.offset >= end && segment.offset + segment.length <= entry.size, "sparse map \(entry.sparse ?? [])")
                    end = segment.offset + segment.length
                }
                var total: UInt64 = 0
                while total < cap {
                    let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
                    if n == 0 { break }
                    total += UInt64(n)
                }
                if total < cap { expect(total == (entry.type == .file ? entry.size : 0), "read \(total) of \(entry.size) bytes") }
            }
        }, allowing: { $0 is TarError })
    }

    /// A listed file must be a well-formed name of its kind with a size that can be read.
    static func checkListed(_ info: FileInfo, kind: FileKind) {
        expect(info.file.kind == kind && info.size >= 0, "listed \(info)")
        expect(info.file.name.utf8.count == 64 && RawID(hex: info.file.name) != nil
               && info.file.name == info.file.name.lowercased(), "listed name \(info.file.name)")
    }

    /// What decodes must encode and decode to the same value.
    static func roundTrip<T: Codable & Equatable>(_ value: T, file: String) {
        guard let encoded = decoding("encode \(file)", { try JSONCoding.encode(value) }, allowing: { _ in false }),
              let again = decoding("decode \(file) again", { try JSONCoding.decode(T.self, encoded, file: file) }, allowing: { _ in false })
        else { return }
        expect(again == value, "\(file) changes in a round trip")
    }
}
