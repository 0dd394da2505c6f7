import Foundation
import XCTest
import SnapCore
import SnapTestSupport
import SnapStorage
@testable import SnapRestic

/// Reads repositories that the real restic 0.14 writes, in format versions 1 and 2, and
/// compares every snapshot with the tree it was taken of.
final class ResticReaderTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(ResticFixture.restic == nil, "restic is not installed (scripts/install-deps.sh installs it)")
    }

    /// Builds the first state of the source tree: small and large files, a folder tree, a
    /// name that is not UTF-8, a name with quotes, backslashes and a newline, a hard link, a
    /// symlink, an extended attribute, a FIFO and special permission bits.
    private func populate(_ fixture: ResticFixture) throws {
        try fixture.write("a.txt", Array("first version\n".utf8))
        try fixture.write("dir/sub/deep.txt", Array("deep\n".utf8))
        try fixture.write("dir/empty", [])
        // Over restic's largest chunk (8 MiB), so it is always cut: smaller ones are sometimes one blob.
        try fixture.write("big.bin", pseudoRandomBytes(count: 9 << 20, seed: 7))
        try fixture.write("text.log", Array(String(repeating: "a line of a log that compresses well\n", count: 70_000).utf8))
        try fixture.writeRawName([0x63, 0x61, 0x66, 0xe9, 0xff], Array("latin-1 name\n".utf8))
        try fixture.write("we\"ird\\na\tme\n", Array("odd name\n".utf8))
        XCTAssertEqual(link("\(fixture.source)/a.txt", "\(fixture.source)/dir/hard.txt"), 0)
        XCTAssertEqual(symlink("../a.txt", "\(fixture.source)/dir/link"), 0)
        try fixture.setXattr("a.txt", name: "user.note", value: Array("hello\0world".utf8))
        XCTAssertEqual(mkfifo("\(fixture.source)/fifo", 0o640), 0)
        XCTAssertEqual(chmod("\(fixture.source)/dir/sub", 0o3750), 0)
    }

    /// Opens the repository and compares snapshot `id` with the source tree as it is now.
    @discardableResult
    private func check(_ fixture: ResticFixture, snapshot id: String, host: String, tags: [String]) throws -> ResticRepository {
        let repository = try ResticRepository(backend: fixture.backend(), password: ResticFixture.password)
        let (_, snapshot) = try repository.snapshot(matching: id)
        XCTAssertEqual(snapshot.hostname, host)
        XCTAssertEqual(snapshot.tags, tags)
        XCTAssertEqual(snapshot.paths, [fixture.source])
        XCTAssertNotNil(snapshot.timestamp)
        let root = try repository.loadTree(snapshot.tree)
        XCTAssertEqual(root.map(\.name), [Array("src".utf8)])
        guard let src = root.first, let subtree = src.subtree else { return repository }
        var comparison = TreeComparison(repository: repository)
        try comparison.compare(tree: subtree, folder: Array(fixture.source.utf8))
        XCTAssertGreaterThanOrEqual(comparison.filesCompared, 6)
        return repository
    }

    private func readsSnapshots(version: Int?) throws {
        let fixture = try ResticFixture(version: version)
        try populate(fixture)
        let first = try fixture.backup(host: "alpha", tags: ["daily"])
        let repository = try check(fixture, snapshot: first, host: "alpha", tags: ["daily"])
        XCTAssertEqual(repository.config.version, version ?? 2)

        // The big file spans several blobs; the hard link's two names share an inode.
        let src = try repository.loadTree(try repository.snapshot(matching: first).snapshot.tree)[0]
        let top = try repository.loadTree(src.subtree!)
        let big = try XCTUnwrap(top.first { $0.name == Array("big.bin".utf8) })
        XCTAssertGreaterThan(big.content.count, 1)
        let a = try XCTUnwrap(top.first { $0.name == Array("a.txt".utf8) })
        let dir = try repository.loadTree(try XCTUnwrap(top.first { $0.name == Array("dir".utf8) }?.subtree))
        let hard = try XCTUnwrap(dir.first { $0.name == Array("hard.txt".utf8) })
        XCTAssertEqual(a.inode, hard.inode)
        XCTAssertEqual(a.links, 2)
        XCTAssertEqual(a.content, hard.content)

        // A deletion, a change and new content, under another host and tags.
        try FileManager.default.removeItem(atPath: "\(fixture.source)/dir/sub/deep.txt")
        try fixture.write("a.txt", Array("second version, longer\n".utf8))
        try fixture.write("new/added.txt", Array("added later\n".utf8))
        let second = try fixture.backup(host: "beta", tags: ["weekly", "moved"])
        let reopened = try check(fixture, snapshot: second, host: "beta", tags: ["weekly", "moved"])
        // restic prints 8-digit IDs; the reader lists the full ones, oldest first.
        XCTAssertEqual(reopened.snapshots.map { String($0.id.hex.prefix(first.count)) }, [first, second])

        // Every pack's authenticated header agrees with the index.
        var packs = Set<ResticPackID>()
        var compressed = 0
        for blob in try allBlobs(reopened) {
            guard let location = reopened.index.location(of: blob) else { continue }
            packs.insert(location.pack)
        }
        for pack in packs {
            for entry in try reopened.packHeader(pack).entries {
                let location = try XCTUnwrap(reopened.index.location(of: entry.id))
                if location.pack == pack {
                    XCTAssertEqual(location, ResticBlobLocation(type: entry.type, pack: pack, offset: entry.offset,
                                                                length: entry.length, uncompressedLength: entry.uncompressedLength))
                }
                if entry.uncompressedLength != nil { compressed += 1 }
            }
        }
        XCTAssertFalse(packs.isEmpty)
        if version == 1 { XCTAssertEqual(compressed, 0) } else { XCTAssertGreaterThan(compressed, 0) }
    }

    /// Every blob reachable from every snapshot.
    private func allBlobs(_ repository: ResticRepository) throws -> Set<ResticBlobID> {
        var seen = Set<ResticBlobID>()
        var trees = repository.snapshots.map(\.snapshot.tree)
        while let tree = trees.popLast() {
            guard seen.insert(tree).inserted else { continue }
            for node in try repository.loadTree(tree) {
                seen.formUnion(node.content)
                if let subtree = node.subtree { trees.append(subtree) }
            }
        }
        return seen
    }

    func testReadsVersion2Repository() throws { try readsSnapshots(version: nil) }

    func testReadsVersion1Repository() throws { try readsSnapshots(version: 1) }

    // A wrong password is named as such, with the location.
    func testWrongPassword() throws {
        let fixture = try ResticFixture(version: nil)
        XCTAssertThrowsError(try ResticRepository(backend: fixture.backend(), password: "wrong")) { error in
            XCTAssertEqual(error as? ResticError, .wrongPassword(location: fixture.backend().location, keysTried: 1))
            XCTAssertTrue("\(error)".hasPrefix("wrong password for the restic repository at"), "\(error)")
        }
    }

    // An empty folder is not taken for a restic repository.
    func testEmptyFolderHasNoKeys() throws {
        let folder = try TemporaryDirectory(prefix: "snap-restic-empty", in: "/var/tmp")
        defer { folder.remove() }
        XCTAssertThrowsError(try ResticRepository(backend: LocalBackend(root: folder.path), password: "x")) { error in
            guard case .noKeys? = error as? ResticError else { return XCTFail("\(error)") }
        }
    }
}
