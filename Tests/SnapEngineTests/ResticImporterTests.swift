import Foundation
import XCTest
import SnapCore
import SnapCrypto
import SnapEngine
import SnapRepository
import SnapStorage
import SnapTestSupport
@testable import SnapRestic

/// restic histories that restic itself accepts are imported, with what restic would restore.
final class ResticImporterTests: XCTestCase {
    private static let restic = "/usr/bin/restic"
    private static let password = "restic pw"

    // restic 0.8 and older recorded the size a file had when its backup started, so a log that
    // grew meanwhile has more content than size; restic's check accepts it and its restore
    // writes the content. The import stopped there for good (campaign 13 F1); now the file
    // comes in with its content, a warning names snapshot and path, and the import goes on.
    func testAFileWhoseRecordedSizeDiffersFromItsContentIsImportedWithItsContent() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.restic), "restic is not installed (scripts/install-deps.sh installs it)")
        let work = try TemporaryDirectory(prefix: "snap-restic-size")
        defer { work.remove() }
        let content = Array(String(repeating: "Dec  6 mail delivered\n", count: 9).utf8)
        try FileManager.default.createDirectory(atPath: work.appending("src"), withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: work.appending("src/mail.log"), contents: Data(content)))
        try runRestic(["init"], repository: work.appending("restic"), in: work.path)
        try runRestic(["backup", "src"], repository: work.appending("restic"), in: work.path)
        try forgeRecordedSize(content.count - 20, ofFirstFileIn: work.appending("restic"))

        let source = try ResticRepository(backend: LocalBackend(root: work.appending("restic")), password: Self.password)
        XCTAssertEqual(source.snapshots.count, 1)
        let fixture = try BackupFixture()
        let session = try ImportSession(repository: fixture.repository, options: ImportOptions(lockHostname: "test-host"))
        defer { session.close() }
        let result = try ResticImporter(source: source, session: session).run(source.snapshots)
        XCTAssertEqual(result.imported.count, 1)
        XCTAssertEqual(result.warnings.count, 1, "\(result.warnings)")
        let warning = try XCTUnwrap(result.warnings.first)
        XCTAssertTrue(warning.contains(source.snapshots[0].id.short) && warning.contains("/src/mail.log")
                      && warning.contains("recorded \(content.count - 20) bytes") && warning.contains("holds \(content.count)"), warning)

        let snapshot = try SnapshotStore.load(try XCTUnwrap(result.imported.first?.snapshot), from: fixture.repository)
        var files: [[UInt8]: Node] = [:]
        try TreeWalker(repository: fixture.repository).walk(snapshot.tree) { path, node in files[path] = node }
        let node = try XCTUnwrap(files[Array("/src/mail.log".utf8)], "\(files.keys.map(PathBytes.display))")
        XCTAssertEqual(node.size, UInt64(content.count))
        let restored = try fixture.restore(snapshot.tree)
        XCTAssertTrue(restored.succeeded, "\(restored.errors)")
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: fixture.targetDirectory.appending("src/mail.log")))), content)
    }

    private func runRestic(_ arguments: [String], repository: String, in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.restic)
        process.arguments = ["-r", repository, "--no-cache", "-q"] + arguments
        process.environment = ["RESTIC_PASSWORD": Self.password, "PATH": "/usr/bin:/bin", "HOME": directory]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "restic \(arguments)")
    }

    /// Rewrites the repository's one snapshot as restic 0.8 would have written it: the first
    /// file of the folder `src` records `size` bytes. The two trees above it are stored again
    /// in a new pack with a new index file, and the snapshot file is replaced.
    private func forgeRecordedSize(_ size: Int, ofFirstFileIn repository: String) throws {
        let source = try ResticRepository(backend: LocalBackend(root: repository), password: Self.password)
        let key = source.key
        let (oldID, snapshot) = try XCTUnwrap(source.snapshots.first)
        func object(_ bytes: [UInt8]) throws -> [String: Any] { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) }
        func json(_ object: Any) throws -> [UInt8] { Array(try JSONSerialization.data(withJSONObject: object)) }

        var root = try object(try source.loadBlob(snapshot.tree, type: .tree))
        var rootNodes = try XCTUnwrap(root["nodes"] as? [[String: Any]])
        let folderID = try XCTUnwrap(ResticBlobID(hex: try XCTUnwrap(rootNodes[0]["subtree"] as? String)))
        var folder = try object(try source.loadBlob(folderID, type: .tree))
        var folderNodes = try XCTUnwrap(folder["nodes"] as? [[String: Any]])
        folderNodes[0]["size"] = size
        folder["nodes"] = folderNodes
        let folderBytes = try json(folder)
        rootNodes[0]["subtree"] = Hex.encode(SHA256.hash(folderBytes))
        root["nodes"] = rootNodes
        let rootBytes = try json(root)

        // A pack of the two trees, uncompressed: sealed blobs, the sealed header (per blob:
        // type 1 = tree, its sealed length as uint32 little-endian, its ID), the header's length.
        func uint32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        var pack: [UInt8] = [], header: [UInt8] = [], entries: [[String: Any]] = []
        for plaintext in [folderBytes, rootBytes] {
            let sealed = try seal(plaintext, key)
            let id = SHA256.hash(plaintext)
            entries.append(["id": Hex.encode(id), "type": "tree", "offset": pack.count, "length": sealed.count])
            header += [1] + uint32(sealed.count) + id
            pack += sealed
        }
        let sealedHeader = try seal(header, key)
        pack += sealedHeader + uint32(sealedHeader.count)
        let packName = Hex.encode(SHA256.hash(pack))
        try store(pack, at: "\(repository)/data/\(packName.prefix(2))/\(packName)")
        let index = try seal(try json(["packs": [["id": packName, "blobs": entries]]]), key)
        try store(index, at: "\(repository)/index/\(Hex.encode(SHA256.hash(index)))")

        var snapshotObject = try object(try UnpackedFile.read(FileName(.snapshots, oldID.hex), from: source.backend, key: key))
        snapshotObject["tree"] = Hex.encode(SHA256.hash(rootBytes))
        let sealedSnapshot = try seal(try json(snapshotObject), key)
        try store(sealedSnapshot, at: "\(repository)/snapshots/\(Hex.encode(SHA256.hash(sealedSnapshot)))")
        try FileManager.default.removeItem(atPath: "\(repository)/snapshots/\(oldID.hex)")
    }

    /// Seals as restic does: IV, AES-256-CTR ciphertext, Poly1305-AES tag.
    private func seal(_ plaintext: [UInt8], _ key: ResticCipherKey) throws -> [UInt8] {
        let iv = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let ciphertext = try AESCTR(key: key.encryption).apply(plaintext, iv: iv)
        return iv + ciphertext + (try key.mac.tag(ciphertext, nonce: iv))
    }

    private func store(_ bytes: [UInt8], at path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)), path)
    }
}
