import XCTest
import SnapCore
import SnapEngine

final class SnapshotFilterTests: XCTestCase {
    private func snapshot(host: String = "alpha", paths: [String] = ["/home"], tags: [String]) -> Snapshot {
        Snapshot(time: "2024-01-01T00:00:00Z", hostname: host, username: "u", uid: 0, gid: 0, paths: paths, tags: tags,
                 excludes: [], parent: nil, tree: TreeSamples.id(2), summary: nil, programVersion: snapVersion)
    }

    // A group "a,b" requires every tag in it.
    func testGroupNeedsAllItsTags() {
        let filter = SnapshotFilter(tags: ["a,b"])
        XCTAssertTrue(filter.matches(snapshot(tags: ["a", "b"])))
        XCTAssertTrue(filter.matches(snapshot(tags: ["c", "b", "a"])))
        XCTAssertFalse(filter.matches(snapshot(tags: ["a"])))
        XCTAssertFalse(filter.matches(snapshot(tags: ["b"])))
        XCTAssertFalse(filter.matches(snapshot(tags: [])))
        XCTAssertFalse(filter.matches(snapshot(tags: ["a,b"])), "a tag is not split on commas")
    }

    // Tags are read as restic reads them: white space around each trimmed, empty ones
    // dropped, so `--tag 'a, b'` asks for "b", not " b"; only blanks mean untagged.
    func testTagListsAreTrimmed() {
        XCTAssertEqual(TagList.parse("daily, weekly"), ["daily", "weekly"])
        XCTAssertEqual(TagList.parse(" x ,y,"), ["x", "y"])
        XCTAssertEqual(TagList.parse("a,,b"), ["a", "b"])
        XCTAssertEqual(TagList.parse([" ", "p,\tq "]), ["p", "q"])
        XCTAssertEqual(TagList.parse("two words"), ["two words"], "inner spaces stay")
        XCTAssertTrue(SnapshotFilter(tags: ["a, b"]).matches(snapshot(tags: ["a", "b"])))
        XCTAssertTrue(SnapshotFilter(tags: [" "]).matches(snapshot(tags: [])))
        XCTAssertFalse(SnapshotFilter(tags: [" "]).matches(snapshot(tags: ["a"])))
        let retained = RetentionSnapshot(id: retentionTestID(1),
                                         time: ZonedTimestamp(instant: Timestamp(seconds: 0, nanoseconds: 0), utcOffset: 0),
                                         hostname: "alpha", paths: ["/home"], tags: ["monthly", "yearly"])
        XCTAssertTrue(retained.hasAllTags("monthly, yearly"))
        XCTAssertFalse(retained.hasAllTags("monthly, daily"))
        // Tags an older snap stored untrimmed still match, and tag changes compare them
        // trimmed without rewriting the ones they do not touch.
        XCTAssertTrue(SnapshotFilter(tags: ["a, b"]).matches(snapshot(tags: ["a", " b"])))
        XCTAssertEqual(TagChange(remove: ["b"]).apply(to: ["a", " b"]), ["a"])
        XCTAssertEqual(TagChange(remove: ["x"]).apply(to: ["b ", "c"]), ["b ", "c"], "unchanged, so not rewritten")
        XCTAssertEqual(TagChange(add: ["b"]).apply(to: [" b"]), [" b"])
    }

    // Several groups match when any one group matches.
    func testSeveralGroupsMeanAny() {
        let filter = SnapshotFilter(tags: ["a,b", "c"])
        XCTAssertTrue(filter.matches(snapshot(tags: ["c"])))
        XCTAssertTrue(filter.matches(snapshot(tags: ["a", "b"])))
        XCTAssertTrue(filter.matches(snapshot(tags: ["a", "c"])))
        XCTAssertFalse(filter.matches(snapshot(tags: ["a"])))
        XCTAssertFalse(filter.matches(snapshot(tags: ["b", "d"])))
    }

    // Hosts match any listed host; every path given must be among the snapshot's (restic's
    // HasPaths: `--path /a` matches a snapshot of /a and /b); all filters must pass.
    func testHostsPathsAndCombination() {
        XCTAssertTrue(SnapshotFilter().matches(snapshot(tags: [])))
        XCTAssertTrue(SnapshotFilter(hosts: ["beta", "alpha"]).matches(snapshot(tags: [])))
        XCTAssertFalse(SnapshotFilter(hosts: ["beta"]).matches(snapshot(tags: [])))
        XCTAssertTrue(SnapshotFilter(paths: ["/b", "/a"]).matches(snapshot(paths: ["/a", "/b"], tags: [])))
        XCTAssertTrue(SnapshotFilter(paths: ["/a"]).matches(snapshot(paths: ["/a", "/b"], tags: [])), "the snapshot includes /a")
        XCTAssertFalse(SnapshotFilter(paths: ["/a"]).matches(snapshot(paths: ["/ab", "/b"], tags: [])), "whole paths, not prefixes")
        XCTAssertFalse(SnapshotFilter(paths: ["/a", "/b", "/c"]).matches(snapshot(paths: ["/a", "/b"], tags: [])))
        XCTAssertFalse(SnapshotFilter(hosts: ["alpha"], tags: ["x"]).matches(snapshot(tags: ["y"])))
        XCTAssertFalse(SnapshotFilter(hosts: ["beta"], tags: ["x"]).matches(snapshot(tags: ["x"])))
        XCTAssertTrue(SnapshotFilter(hosts: ["alpha"], paths: ["/home"], tags: ["x"]).matches(snapshot(tags: ["x"])))
    }
}
