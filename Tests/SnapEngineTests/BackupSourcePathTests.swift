import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage

final class BackupSourcePathTests: XCTestCase {
    private func makeSiblings(_ f: BackupFixture) throws {
        try Disk.mkdir(f.sourcePath(Disk.bytes("src")))
        for name in ["a", "b", "c"] {
            try Disk.mkdir(f.sourcePath(Disk.bytes("src"), Disk.bytes(name)))
            try Disk.write(f.sourcePath(Disk.bytes("src"), Disk.bytes(name), Disk.bytes("file")), Array("in \(name)\n".utf8))
        }
    }

    /// The names in the tree reached from `root` by following `components`, each of which must be a folder.
    private func names(below components: [[UInt8]], from root: BlobID, in repository: Repository,
                       file: StaticString = #filePath, line: UInt = #line) throws -> [[UInt8]] {
        let walker = TreeWalker(repository: repository)
        var tree = try walker.tree(root)
        for component in components {
            let node = try XCTUnwrap(tree.node(named: component), PathBytes.display(component), file: file, line: line)
            XCTAssertEqual(node.type, .directory, file: file, line: line)
            tree = try walker.tree(try XCTUnwrap(node.subtree, file: file, line: line))
        }
        return tree.nodes.map(\.name)
    }

    // The root tree holds only the first component of the absolute source path, and each folder on the way only the next one.
    func testRootTreeHoldsTheFirstComponentOnly() throws {
        let f = try BackupFixture()
        try makeSiblings(f)
        let snapshot = try f.backup([f.source("src")]).snapshot
        XCTAssertEqual(snapshot.paths, [f.source("src")])
        let components = PathBytes.components(f.sourcePath(Disk.bytes("src")))
        for depth in 0..<components.count {
            XCTAssertEqual(try names(below: Array(components[..<depth]), from: snapshot.tree, in: f.repository), [components[depth]],
                           "below \(depth) components")
        }
        XCTAssertEqual(try names(below: components, from: snapshot.tree, in: f.repository), [[0x61], [0x62], [0x63]])
    }

    // A folder above a backed-up path that is reached through a symbolic link is stored as
    // the folder it leads to (mode 0700 here), not with the link's 0777, and restored so.
    func testFolderAboveAPathThroughASymlinkKeepsItsOwnMode() throws {
        let f = try BackupFixture()
        try makeSiblings(f)
        try Disk.chmod(f.sourcePath(Disk.bytes("src"), Disk.bytes("b")), 0o700)
        try Disk.symlink(Disk.bytes("b"), at: f.sourcePath(Disk.bytes("src"), Disk.bytes("link")))
        let snapshot = try f.backup([f.source("src/link/file")]).snapshot
        let components = PathBytes.components(f.sourcePath(Disk.bytes("src")))
        let walker = TreeWalker(repository: f.repository)
        var tree = try walker.tree(snapshot.tree)
        for component in components { tree = try walker.tree(try XCTUnwrap(tree.node(named: component)?.subtree)) }
        let link = try XCTUnwrap(tree.node(named: Disk.bytes("link")))
        XCTAssertEqual(link.type, .directory)
        XCTAssertEqual(link.mode & 0o7777, 0o700)

        XCTAssertTrue(try f.restore(snapshot.tree).succeeded)
        let restored = f.restored(f.sourcePath(Disk.bytes("src"), Disk.bytes("link")))
        XCTAssertEqual(try Disk.lstat(restored).st_mode & 0o7777, 0o700)
        XCTAssertEqual(try Disk.read(PathBytes.join(restored, Disk.bytes("file"))), Array("in b\n".utf8))
    }

    // Files are restored under the target followed by their absolute snapshot path.
    func testRestoreGoesUnderTargetPlusAbsolutePath() throws {
        let f = try BackupFixture()
        try makeSiblings(f)
        let snapshot = try f.backup([f.source("src/b")]).snapshot
        XCTAssertTrue(try f.restore(snapshot.tree).succeeded)
        XCTAssertEqual(try Disk.read(f.restored(f.sourcePath(Disk.bytes("src"), Disk.bytes("b"), Disk.bytes("file")))), Array("in b\n".utf8))
        XCTAssertEqual(try Disk.names(Disk.bytes(f.targetDirectory.path)), [PathBytes.components(Disk.bytes(f.sourceDirectory.path))[0]])
    }

    // Two sibling paths share their parent folder, which holds just those two.
    func testSiblingPathsShareTheirParent() throws {
        let f = try BackupFixture()
        try makeSiblings(f)
        let snapshot = try f.backup([f.source("src/b"), f.source("src/a")]).snapshot
        XCTAssertEqual(snapshot.paths, [f.source("src/a"), f.source("src/b")])
        let src = PathBytes.components(f.sourcePath(Disk.bytes("src")))
        XCTAssertEqual(try names(below: src, from: snapshot.tree, in: f.repository), [[0x61], [0x62]])
        XCTAssertEqual(try names(below: src + [[0x61]], from: snapshot.tree, in: f.repository), [Disk.bytes("file")])
        XCTAssertTrue(try f.restore(snapshot.tree).succeeded)
        XCTAssertEqual(try Disk.names(f.restored(f.sourcePath(Disk.bytes("src")))), [[0x61], [0x62]])
    }

    // A path and a path below it, in either order: only the top one is a target, backed up whole and once.
    func testNestedPathsKeepOnlyTheTopOne() throws {
        let f = try BackupFixture()
        try makeSiblings(f)
        let src = PathBytes.components(f.sourcePath(Disk.bytes("src")))
        let alone = try f.backup([f.source("src")]).snapshot
        let srcSubtree = { (snapshot: Snapshot) throws -> BlobID? in
            let walker = TreeWalker(repository: f.repository)
            var tree = try walker.tree(snapshot.tree)
            for component in src.dropLast() { tree = try walker.tree(try XCTUnwrap(tree.node(named: component)?.subtree)) }
            XCTAssertEqual(tree.nodes.count, 1)
            return tree.node(named: src.last!)?.subtree
        }
        for paths in [[f.source("src"), f.source("src/a")], [f.source("src/a"), f.source("src")]] {
            let snapshot = try f.backup(paths).snapshot
            XCTAssertEqual(try names(below: src, from: snapshot.tree, in: f.repository), [[0x61], [0x62], [0x63]], "\(paths)")
            XCTAssertEqual(try srcSubtree(snapshot), try srcSubtree(alone), "same tree for src as when backed up alone: \(paths)")
        }
    }

    // Source paths are normalised: '.', '..', repeated and trailing slashes are removed.
    func testPathsAreNormalised() throws {
        let f = try BackupFixture()
        try makeSiblings(f)
        let snapshot = try f.backup([f.sourceDirectory.path + "//src/./c/../a/"]).snapshot
        XCTAssertEqual(snapshot.paths, [f.source("src/a")])
        let src = PathBytes.components(f.sourcePath(Disk.bytes("src")))
        XCTAssertEqual(try names(below: src, from: snapshot.tree, in: f.repository), [[0x61]])
    }

    // A missing source path throws sourceUnavailable naming it, before anything is written to the repository.
    func testMissingSourceThrowsBeforeWriting() throws {
        let f = try BackupFixture()
        try makeSiblings(f)
        let backend = MemoryBackend()
        let repository = try makeEngineRepository(on: backend)
        let before = try allFiles(backend)
        let missing = f.source("src/missing")
        for paths in [[f.source("src"), missing], [missing, f.source("src")], [missing]] {
            let options = BackupOptions(paths: paths, hostname: "h", username: "u")
            XCTAssertThrowsError(try Archiver(repository: repository, options: options).run(), "\(paths)") { error in
                guard case let EngineError.sourceUnavailable(path, _) = error else { return XCTFail("\(paths): \(error)") }
                XCTAssertEqual(path, missing)
            }
            XCTAssertEqual(try allFiles(backend), before, "the repository is unchanged after \(paths)")
        }
    }
}
