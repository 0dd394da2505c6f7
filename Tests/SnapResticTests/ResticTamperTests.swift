import Foundation
import XCTest
import SnapCore
import SnapCrypto
import SnapStorage
@testable import SnapRestic

/// A changed byte anywhere in a restic repository gives an error naming the file, and
/// restic's exclusive lock stops the reader before it reads anything else.
final class ResticTamperTests: XCTestCase {
    nonisolated(unsafe) private static var shared: ResticFixture?
    private var fixture: ResticFixture!

    override func setUpWithError() throws {
        try XCTSkipIf(ResticFixture.restic == nil, "restic is not installed (scripts/install-deps.sh installs it)")
        if Self.shared == nil {
            let made = try ResticFixture(version: nil)
            try made.write("file.bin", pseudoRandomBytes(count: 200_000, seed: 3))
            try made.write("notes.txt", Array("notes\n".utf8))
            _ = try made.backup(host: "h", tags: [])
            Self.shared = made
        }
        fixture = Self.shared
    }

    /// Removes the shared repository now: the test case instances that hold it live until
    /// the process ends, so its deinit would come too late.
    override class func tearDown() {
        shared?.folder.remove()
        shared = nil
    }

    /// The one file of `kind` (the first, for data).
    private func path(of kind: FileKind) throws -> String {
        let backend = LocalBackend(root: fixture.repository)
        let file = try XCTUnwrap(try backend.list(kind).map(\.file).sorted { $0.name < $1.name }.first)
        return backend.path(of: file)
    }

    /// Flips one bit at `offset` (from the end when negative) of the file at `path`, runs
    /// `body`, and restores the byte.
    private func withFlippedBit(_ path: String, at offset: Int, _ body: () throws -> Void) throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let position = offset < 0 ? bytes.count + offset : offset
        bytes[position] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer {
            bytes[position] ^= 0x10
            try? Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        try body()
    }

    private func open() throws -> ResticRepository {
        try ResticRepository(backend: fixture.backend(), password: ResticFixture.password)
    }

    private func assertDamaged(_ expression: @autoclosure () throws -> Any, naming file: String,
                               line: UInt = #line) {
        XCTAssertThrowsError(try expression(), line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(file), "\(text) should name \(file)", line: line)
            XCTAssertTrue(text.contains("damaged"), text, line: line)
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", line: line)
        }
    }

    // A damaged snapshot file is left out and named, as restic's "could not load snapshot":
    // it must not keep the other snapshots from being listed and imported (campaign 13 F2).
    func testTamperedSnapshotIsLeftOutAndNamed() throws {
        let snapshot = try path(of: .snapshots)
        let name = "snapshots/" + (snapshot as NSString).lastPathComponent
        try withFlippedBit(snapshot, at: 40) {
            let repository = try open()
            XCTAssertTrue(repository.snapshots.isEmpty)
            XCTAssertEqual(repository.unreadableSnapshots.count, 1)
            assertDamaged(try { throw repository.unreadableSnapshots[0] }(), naming: name)
        }
        XCTAssertEqual(try open().snapshots.count, 1)
        XCTAssertEqual(try open().unreadableSnapshots, [])
    }

    // A key file whose scrypt cost is above the limits given is not tried, and the error says
    // so (campaign 13 F6: the limits were fixed at 1 GiB and such a key was called damaged).
    func testKeyFileAboveTheLimitsIsNamedNotDamaged() throws {
        XCTAssertThrowsError(try ResticRepository(backend: fixture.backend(), password: ResticFixture.password,
                                                  keyLimits: Scrypt.Limits(maxMemory: 1 << 20))) { error in
            guard case let .keyAboveLimit(file, reason)? = error as? ResticError else { return XCTFail("\(error)") }
            XCTAssertTrue(file.hasPrefix("keys/"), file)
            XCTAssertTrue(reason.contains("above the"), reason)
        }
        XCTAssertNoThrow(try ResticRepository(backend: fixture.backend(), password: ResticFixture.password,
                                              keyLimits: Scrypt.Limits(maxMemory: 256 << 20)))
    }

    // An index entry claiming a huge uncompressed length for a small blob is refused without
    // allocating what it claims: above the pack header's 32 bits when the index is loaded,
    // below that once the frame has produced its real length (campaign 13 F11: 2^40 aborted
    // the import, 2^31 took 2 GB).
    func testForgedUncompressedLengthIsRefusedWithoutAllocatingIt() throws {
        let original = try path(of: .index)
        let saved = try Data(contentsOf: URL(fileURLWithPath: original))
        let folder = (original as NSString).deletingLastPathComponent
        func replaceIndex(with bytes: [UInt8], named name: String) throws {
            for old in try FileManager.default.contentsOfDirectory(atPath: folder) { try FileManager.default.removeItem(atPath: folder + "/" + old) }
            XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(bytes)))
        }
        defer { try? replaceIndex(with: Array(saved), named: (original as NSString).lastPathComponent) }
        let key = try fixture.masterKey()
        let json = try UnpackedFile.decode(Array(saved), file: "index", key: key)
        for (claimed, atLoad) in [(Int(1) << 31, false), (Int(1) << 40, true), (Int.max, true)] {
            var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
            var packs = try XCTUnwrap(object["packs"] as? [[String: Any]])
            var blobs = try XCTUnwrap(packs[0]["blobs"] as? [[String: Any]])
            let index = try XCTUnwrap(blobs.firstIndex { $0["uncompressed_length"] != nil }, "the fixture compresses its blobs")
            blobs[index]["uncompressed_length"] = claimed
            packs[0]["blobs"] = blobs
            object["packs"] = packs
            let sealed = try resticSeal(Array(try JSONSerialization.data(withJSONObject: object)), key: key)
            try replaceIndex(with: sealed, named: Hex.encode(SHA256.hash(sealed)))
            if atLoad {
                XCTAssertThrowsError(try open(), "\(claimed)") { XCTAssertTrue("\($0)".contains("impossible range"), "\($0)") }
                continue
            }
            let repository = try open()
            let id = try XCTUnwrap(ResticBlobID(hex: try XCTUnwrap(blobs[index]["id"] as? String)))
            let type: ResticBlobType = blobs[index]["type"] as? String == "tree" ? .tree : .data
            XCTAssertThrowsError(try repository.loadBlob(id, type: type)) { error in
                XCTAssertTrue("\(error)".contains("expected \(claimed)"), "\(error)")
            }
        }
    }

    func testTamperedIndexNamesIt() throws {
        let index = try path(of: .index)
        let name = "index/" + (index as NSString).lastPathComponent
        try withFlippedBit(index, at: -20) { assertDamaged(try open(), naming: name) }
    }

    // A changed blob byte fails when that blob is read; a changed header byte when the header is.
    func testTamperedPackNamesIt() throws {
        let repository = try open()
        let root = try repository.loadTree(repository.snapshots[0].snapshot.tree)
        let files = try repository.loadTree(try XCTUnwrap(root.first?.subtree))
        let file = try XCTUnwrap(files.first { $0.name == Array("file.bin".utf8) })
        let blob = try XCTUnwrap(file.content.first)
        let location = try XCTUnwrap(repository.index.location(of: blob))
        let pack = LocalBackend(root: fixture.repository).path(of: FileName(.data, location.pack.hex))
        let name = "data/\(location.pack.hex)"
        XCTAssertEqual(try repository.contentReader(file.content).readAll().count, 200_000)
        try withFlippedBit(pack, at: location.offset + 100) {
            assertDamaged(try repository.contentReader(file.content).readAll(), naming: name)
            XCTAssertNoThrow(try repository.packHeader(location.pack), "the header is intact")
        }
        try withFlippedBit(pack, at: -10) {
            assertDamaged(try repository.packHeader(location.pack), naming: name)
        }
    }

    // The blob reader reads a pack's blobs with one request and still checks each blob:
    // a changed byte in the second blob of a window fails with the pack named.
    func testBlobReaderReadsWindowsAndChecksEachBlob() throws {
        let repository = try open()
        let root = try repository.loadTree(repository.snapshots[0].snapshot.tree)
        let files = try repository.loadTree(try XCTUnwrap(root.first?.subtree))
        let content = files.filter { $0.kind == .file }.flatMap(\.content)
        XCTAssertEqual(content.count, 2)
        let packs = Set(content.compactMap { repository.index.location(of: $0)?.pack })
        XCTAssertEqual(packs.count, 1, "restic packs small data blobs together")
        let reader = ResticBlobReader(repository: repository)
        for id in content { XCTAssertEqual(try reader.loadBlob(id, type: .data), try repository.loadBlob(id, type: .data)) }
        XCTAssertEqual(reader.reads, 1)
        XCTAssertEqual(reader.blobsFromWindow, 1)

        let sorted = content.sorted { repository.index.location(of: $0)!.offset < repository.index.location(of: $1)!.offset }
        let second = try XCTUnwrap(repository.index.location(of: sorted[1]))
        let pack = LocalBackend(root: fixture.repository).path(of: FileName(.data, second.pack.hex))
        try withFlippedBit(pack, at: second.offset + 20) {
            let fresh = ResticBlobReader(repository: repository)
            XCTAssertNoThrow(try fresh.loadBlob(sorted[0], type: .data))
            assertDamaged(try fresh.loadBlob(sorted[1], type: .data), naming: "data/\(second.pack.hex)")
        }
        // A tree asked for twice is decoded once.
        XCTAssertEqual(try reader.loadTree(repository.snapshots[0].snapshot.tree), root)
        let readsBefore = reader.reads
        _ = try reader.loadTree(repository.snapshots[0].snapshot.tree)
        XCTAssertEqual(reader.reads, readsBefore)
    }

    func testTamperedKeyFileIsAWrongPasswordOrDamage() throws {
        let key = try path(of: .keys)
        var text = try String(contentsOfFile: key, encoding: .utf8)
        let original = text
        defer { try? original.write(toFile: key, atomically: false, encoding: .utf8) }
        // Change one base64 digit of the sealed master key.
        let range = try XCTUnwrap(text.range(of: "\"data\":\""))
        let index = text.index(range.upperBound, offsetBy: 30)
        text.replaceSubrange(index...index, with: text[index] == "A" ? "B" : "A")
        try text.write(toFile: key, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try open()) { error in
            XCTAssertEqual(error as? ResticError, .wrongPassword(location: self.fixture.backend().location, keysTried: 1))
        }
    }

    // restic's exclusive lock (planted the way restic writes it, and read back by restic
    // itself) stops the reader; a shared lock does not.
    func testExclusiveLockRefusesAndSharedLockDoesNot() throws {
        let key = try fixture.masterKey()
        func plant(exclusive: Bool) throws -> String {
            let json = #"{"time":"\#(rfc3339Now())","exclusive":\#(exclusive),"hostname":"otherhost","username":"admin","pid":4242,"uid":0,"gid":0}"#
            let sealed = try resticSeal(Array(json.utf8), key: key)
            let name = Hex.encode(SHA256.hash(sealed))
            try LocalBackend(root: fixture.repository).write(FileName(.locks, name), data: sealed)
            return name
        }
        let shared = try plant(exclusive: false)
        XCTAssertTrue(try fixture.restic(["--no-lock", "cat", "lock", shared]).contains("\"exclusive\": false"))
        XCTAssertNoThrow(try open())
        let exclusive = try plant(exclusive: true)
        defer {
            unlink("\(fixture.repository)/locks/\(exclusive)")
            unlink("\(fixture.repository)/locks/\(shared)")
        }
        XCTAssertTrue(try fixture.restic(["--no-lock", "cat", "lock", exclusive]).contains("\"exclusive\": true"))
        XCTAssertThrowsError(try open()) { error in
            guard case .exclusivelyLocked(let file, let holder, _)? = error as? ResticError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "locks/\(exclusive)")
            XCTAssertEqual(holder, "admin@otherhost (PID 4242)")
        }
        let listing = try FileManager.default.contentsOfDirectory(atPath: "\(fixture.repository)/locks").sorted()
        XCTAssertEqual(listing, [exclusive, shared].sorted(), "the reader wrote no lock of its own")
    }

    private func rfc3339Now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
