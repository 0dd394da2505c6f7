import XCTest
import SnapEngine
import SnapTestSupport

final class RestoreSelectionTests: XCTestCase {
    private var fixture: BackupFixture!
    private var source: [UInt8] = []
    private var backup: BackupResult!

    override func setUpWithError() throws {
        fixture = try BackupFixture()
        source = fixture.sourcePath(Disk.bytes("src"))
        try SampleTree.build(at: source)
        backup = try fixture.backup([fixture.source("src")])
    }

    override func tearDown() { fixture = nil }

    /// Every path from the target's first entry down to `absolute`, relative to the target.
    private func chain(to absolute: [UInt8]) -> Set<[UInt8]> {
        let parts = PathBytes.components(absolute)
        return Set((1...parts.count).map { parts[..<$0].joined(separator: [PathBytes.slash]).map { $0 } })
    }

    private func restoredPaths() throws -> Set<[UInt8]> {
        Set(try Disk.listing(Disk.bytes(fixture.targetDirectory.path)).keys)
    }

    // An include by name restores only the matched file and the folders leading to it.
    func testIncludeByNameRestoresFileAndParents() throws {
        let result = try fixture.restore(backup.snapshot.tree, includes: ["medium.bin"])
        XCTAssertTrue(result.succeeded)
        let medium = source + Disk.bytes("/docs/nested/medium.bin")
        let paths = try restoredPaths()
        XCTAssertEqual(paths, chain(to: medium), describe(paths))
        XCTAssertEqual(try Disk.read(fixture.restored(medium)), try Disk.read(medium))
        XCTAssertEqual(result.files, 1)
    }

    // An include by absolute path restores only that file; one matching a folder restores everything below it.
    func testIncludeByPathAndFolder() throws {
        let readme = source + Disk.bytes("/docs/readme.txt")
        XCTAssertTrue(try fixture.restore(backup.snapshot.tree, includes: [PathBytes.display(readme)]).succeeded)
        let paths = try restoredPaths()
        XCTAssertEqual(paths, chain(to: readme), describe(paths))

        let second = try TemporaryDirectory(prefix: "snap-engine-dst2")
        defer { second.remove() }
        XCTAssertTrue(try fixture.restore(backup.snapshot.tree, includes: ["nested"], into: second.path).succeeded)
        let medium = source + Disk.bytes("/docs/nested/medium.bin")
        XCTAssertEqual(Set(try Disk.listing(Disk.bytes(second.path)).keys), chain(to: medium))
    }

    // Excludes by name and by path leave the matched entries (and all below) out and restore the rest unchanged.
    func testExcludesLeaveMatchesOut() throws {
        let result = try fixture.restore(backup.snapshot.tree, excludes: ["*.bin", PathBytes.display(source) + "/docs/nested"])
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        var expected = try Disk.listing(source)
        for path in expected.keys {
            let text = PathBytes.display(path)
            if text.hasSuffix(".bin") || text.hasPrefix("docs/nested") { expected[path] = nil }
        }
        XCTAssertEqual(expected.count, try Disk.listing(source).count - 3, "big.bin, docs/nested and its file")
        assertSameListing(try Disk.listing(fixture.restored(source)), expected)
    }

    // Leaving out the first name of a hard link still restores the other name with its full content.
    func testExcludingFirstNameOfHardLink() throws {
        let entries = try fixture.snapshotEntries(backup.snapshot.tree)
        let first = try XCTUnwrap(entries.first { $0.value.type == .file && $0.value.links == 2 })
        let second = try XCTUnwrap(entries.first { $0.value.type == .hardlink })
        let result = try fixture.restore(backup.snapshot.tree, excludes: [PathBytes.display(first.key)])
        XCTAssertTrue(result.succeeded, "\(result.errors)")
        XCTAssertFalse(Disk.exists(fixture.restored(first.key)))
        XCTAssertEqual(try Disk.read(fixture.restored(second.key)), try Disk.read(second.key))
        XCTAssertEqual(try Disk.read(second.key).count, SampleTree.hardSize)
    }

    // restic's rules: a relative include with '/' matches that folder at any depth and,
    // as every path below it contains it, everything below (issue #18: 'me/Documents').
    func testRelativeIncludeWithSlashRestoresFolderContents() throws {
        let result = try fixture.restore(backup.snapshot.tree, includes: ["docs/nested"])
        XCTAssertTrue(result.succeeded)
        let medium = source + Disk.bytes("/docs/nested/medium.bin")
        XCTAssertEqual(try restoredPaths(), chain(to: medium))
        XCTAssertEqual(result.unmatchedIncludes, [])
    }

    // An anchored include enters only folders on its way (restic's ChildMatch); a pattern that
    // matched nothing is reported.
    func testAnchoredIncludeAndUnmatched() throws {
        let readme = source + Disk.bytes("/docs/readme.txt")
        let result = try fixture.restore(backup.snapshot.tree, includes: [PathBytes.display(readme), "/nowhere/x"])
        XCTAssertTrue(result.succeeded)
        XCTAssertEqual(try restoredPaths(), chain(to: readme))
        XCTAssertEqual(result.unmatchedIncludes.map(\.pattern), ["/nowhere/x"])
    }
}
