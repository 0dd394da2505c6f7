import XCTest
import SnapCore
@testable import SnapEngine

final class RestoredLinksTests: XCTestCase {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    // A first name's target is the restore target followed by its snapshot path, also when
    // the target is the root folder.
    func testTargetPathFollowsTheSnapshotPath() {
        XCTAssertEqual(RestoredLinks(target: bytes("/tmp/r")).targetPath(of: bytes("/a/b")), bytes("/tmp/r/a/b"))
        XCTAssertEqual(RestoredLinks(target: bytes("/")).targetPath(of: bytes("/a/b")), bytes("/a/b"))
    }

    // Every further name of a file with three names links to the first; after the last one
    // the first name is forgotten.
    func testFurtherNamesLinkToTheFirstUntilAllAreMet() {
        var links = RestoredLinks(target: bytes("/r"))
        links.restoredFirst(bytes("/x/one"), links: 3, kept: false)
        links.restoredFirst(bytes("/x/single"), links: 1, kept: false)
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/x/one"))?.target, bytes("/r/x/one"))
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/x/one"))?.target, bytes("/r/x/one"))
        XCTAssertNil(links.linkTarget(forFurtherNameOf: bytes("/x/one")), "all three names were met")
        XCTAssertNil(links.linkTarget(forFurtherNameOf: bytes("/x/single")), "a file with one name is not remembered")
    }

    // When the first name was not restored, the first further name restored stands in for it.
    func testStandInTakesTheFirstNamesPlace() {
        var links = RestoredLinks(target: bytes("/r"))
        XCTAssertNil(links.linkTarget(forFurtherNameOf: bytes("/skipped")))
        links.restoredStandIn(for: bytes("/skipped"), at: bytes("/r/kept"), kept: true)
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/skipped"))?.target, bytes("/r/kept"))
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/skipped"))?.firstKept, true)
    }

    // Whether the first name was left as it was is told to every further name, and
    // forgotten with the first name after the last.
    func testKeptFirstNameIsToldToEveryFurtherName() {
        var links = RestoredLinks(target: bytes("/r"))
        links.restoredFirst(bytes("/kept"), links: 3, kept: true)
        links.restoredFirst(bytes("/rewritten"), links: 2, kept: false)
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/kept"))?.firstKept, true)
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/kept"))?.firstKept, true)
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/rewritten"))?.firstKept, false)
        links.restoredFirst(bytes("/kept"), links: 2, kept: false)  // the same path in another snapshot
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/kept"))?.firstKept, false)
    }
}
