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
        links.restoredFirst(bytes("/x/one"), links: 3)
        links.restoredFirst(bytes("/x/single"), links: 1)
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/x/one")), bytes("/r/x/one"))
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/x/one")), bytes("/r/x/one"))
        XCTAssertNil(links.linkTarget(forFurtherNameOf: bytes("/x/one")), "all three names were met")
        XCTAssertNil(links.linkTarget(forFurtherNameOf: bytes("/x/single")), "a file with one name is not remembered")
    }

    // When the first name was not restored, the first further name restored stands in for it.
    func testStandInTakesTheFirstNamesPlace() {
        var links = RestoredLinks(target: bytes("/r"))
        XCTAssertNil(links.linkTarget(forFurtherNameOf: bytes("/skipped")))
        links.restoredStandIn(for: bytes("/skipped"), at: bytes("/r/kept"))
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/skipped")), bytes("/r/kept"))
        XCTAssertEqual(links.linkTarget(forFurtherNameOf: bytes("/skipped")), bytes("/r/kept"))
    }
}
