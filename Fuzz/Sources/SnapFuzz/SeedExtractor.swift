import Foundation
import SnapCore
import SnapCrypto
@testable import SnapEngine
@testable import SnapRepository
import SnapStorage

/// Writes seed corpora (`OUT/<target>/NAME`) from a real repository: its files as stored,
/// their decrypted plaintexts, and copies sealed under the fuzzer's test keys, so that
/// mutations start from bytes snap really writes.
enum SeedExtractor {
    /// - Parameter spec: `REPO:OUT`, a local repository and the corpus folder.
    static func run(spec: String, password: String) throws {
        guard let colon = spec.lastIndex(of: ":") else { throw Failure("SNAP_FUZZ_EXTRACT must be REPO:OUT") }
        let out = String(spec[spec.index(after: colon)...])
        let backend = LocalBackend(root: String(spec[..<colon]))
        let repository = try Repository.open(backend: backend, password: password)
        try repository.loadIndex()
        var seeds = Seeds(root: out)

        for info in try backend.list(.keys) {
            let bytes = try backend.read(info.file, range: nil)
            try seeds.add(.keyfile, "real", bytes)
            // The same descriptive fields, sealed under the test KEK, so that mutations reach the payload.
            var file = try KeyFile.decode(bytes, name: info.file.name)
            let nonce = [UInt8](repeating: 7, count: AESGCM.nonceLength)
            let payload = [KeyFile.payloadVersion] + testKeys.encryption + testKeys.id + testKeys.chunker
            let aad = KeyFile.aad(created: file.created, hostname: file.hostname, username: file.username)
            file.data = Data(nonce + (try AESGCM(key: testKEK).seal(payload, nonce: nonce, aad: aad))).base64EncodedString()
            try seeds.add(.keyfile, "test-kek", try file.encoded())
        }

        let config = try repository.loadConfigPlaintext()
        try seeds.add(.config, "real", config)
        try seeds.add(.envelope, "config-real", [0] + (try backend.read(.config, range: nil)))
        try seeds.add(.envelope, "config-test", [0] + (try EncryptedFile.seal(config, kind: .config, keys: testKeys)))

        for info in try backend.list(.index).prefix(2) {
            let plaintext = try repository.loadFile(info.file)
            try seeds.add(.index, "real", plaintext)
            try seeds.add(.envelope, "index-real", [1] + (try backend.read(info.file, range: nil)))
            try seeds.add(.envelope, "index-test", [1] + (try EncryptedFile.seal(plaintext, kind: .index, keys: testKeys)))
        }

        var trees: [BlobID] = []
        for info in try backend.list(.snapshots).prefix(2) {
            let plaintext = try repository.loadFile(info.file)
            try seeds.add(.snapshot, "real", plaintext)
            try seeds.add(.envelope, "snapshot-real", [2] + (try backend.read(info.file, range: nil)))
            try seeds.add(.envelope, "snapshot-test", [2] + (try EncryptedFile.seal(plaintext, kind: .snapshots, keys: testKeys)))
            trees.append(try JSONCoding.decode(Snapshot.self, plaintext, file: "snapshot").tree)
            if let time = try JSONCoding.decode(Snapshot.self, plaintext, file: "snapshot").time.data(using: .utf8) {
                try seeds.add(.time, "snapshot", Array(time))
            }
        }

        // Trees, breadth first, a handful.
        var treeCount = 0
        while let id = trees.first, treeCount < 6 {
            trees.removeFirst()
            let plaintext = try repository.loadBlob(id)
            try seeds.add(.tree, "real", plaintext)
            treeCount += 1
            trees += try Tree.decode(plaintext).nodes.compactMap(\.subtree)
        }

        // Pack headers: the smallest packs' headers as plaintext, and a pack sealed under the test keys.
        let packs = try backend.list(.data).sorted { $0.size < $1.size }
        for info in packs.prefix(2) {
            guard let id = PackID(hex: info.file.name) else { continue }
            let header = try PackFormat.readHeader(of: id, size: info.size, from: backend, keys: repository.keys)
            try seeds.add(.packheader, "real", PackFormat.encodeHeader(header.entries, padding: 0))
        }
        try seeds.add(.pack, "test", [0] + (try testPack(blobs: [Array("hello".utf8), config])))
        try seeds.add(.pack, "test-empty", [0] + (try testPack(blobs: [])))

        // Locks and marks as snap writes them (their files exist only while a command runs).
        let holder = CoordinationRecord.Holder(hostname: "host", pid: 4242, created: "2025-01-02T03:04:05.123456789+01:00")
        try seeds.add(.lock, "backup", try JSONCoding.encode(CoordinationRecord(
            kind: .backup, hostname: "host", pid: 4242, created: holder.created, refreshed: "2025-01-02T03:09:05.5Z")))
        var mark = CoordinationRecord(kind: .deletion, hostname: "host", pid: 77, created: "2025-01-02T04:00:00Z",
                                      refreshed: "2025-01-02T04:00:00Z", packs: packs.prefix(2).compactMap { PackID(hex: $0.file.name) })
        mark.waitFor = [holder]
        try seeds.add(.lock, "mark", try JSONCoding.encode(mark))
        try seeds.add(.envelope, "lock-test", [3] + (try EncryptedFile.seal(try JSONCoding.encode(mark), kind: .locks, keys: testKeys)))
        try seeds.add(.time, "lock", Array(holder.created.utf8))
    }

    /// A pack of uncompressed blobs under the test keys, laid out as `PackWriter` writes it.
    static func testPack(blobs: [[UInt8]]) throws -> [UInt8] {
        let salt = [UInt8](repeating: 9, count: PackFormat.saltLength)
        let cipher = try AESGCM(key: testKeys.subkey(salt: salt, purpose: .pack))
        var out: [UInt8] = []
        var entries: [PackEntry] = []
        for blob in blobs {
            let offset = out.count
            out += try cipher.seal(blob, nonce: PackFormat.nonce(header: false, offset: offset))
            entries.append(PackEntry(type: .data, id: testKeys.blobID(of: blob), offset: UInt32(offset),
                                     length: UInt32(out.count - offset), rawLength: UInt32(blob.count)))
        }
        let headerOffset = out.count
        out += try cipher.seal(PackFormat.encodeHeader(entries, padding: 0), nonce: PackFormat.nonce(header: true, offset: headerOffset))
        let headerLength = UInt32(out.count - headerOffset)
        out += salt
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: headerLength >> UInt32(shift))) }
        return out
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// Writes numbered seed files, one folder per target.
struct Seeds {
    let root: String
    private var counts: [FuzzTarget: Int] = [:]

    init(root: String) { self.root = root }

    mutating func add(_ target: FuzzTarget, _ label: String, _ bytes: [UInt8]) throws {
        let folder = "\(root)/\(target.rawValue)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let n = counts[target, default: 0] + 1
        counts[target] = n
        try Data(bytes).write(to: URL(fileURLWithPath: "\(folder)/\(label)-\(n)"))
    }
}
