import CPosix
import Foundation
import SnapTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The node objects of `ls --json`, `find --json` and `cat tree`, and `diff --json`'s
/// changes, written without `JSONEncoder`: each line is the canonical JSON of its values
/// (sorted keys, Foundation's escapes), the three commands agree on every node, and
/// `find --json` streams its groups.
final class NodeJSONOutputTests: XCTestCase {
    var work = ""
    var snap = SnapProcess(environment: [:])
    var repo: String { "\(work)/repo" }
    var src: String { "\(work)/src" }
    /// Names that need escaping in JSON, and plain ones: JSON gives each exactly (control
    /// characters as JSON escapes, so `new<LF>line` and a name spelled `new\x0aline` stay
    /// apart), as restic does. One more, `bad-` and byte 0xFF, is not UTF-8.
    let oddNames = ["quote\"back\\slash", "new\nline\ttab", "ctl\u{1}\u{1f}", "slash-less é 😀", "plain.txt"]

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("nodejson")
        snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init", "-r", repo])
        try FileManager.default.createDirectory(atPath: "\(src)/sub", withIntermediateDirectories: true)
        for (i, name) in oddNames.enumerated() {
            try String(repeating: "content \(i)\n", count: i + 1).write(toFile: "\(src)/sub/\(name)", atomically: false, encoding: .utf8)
        }
        let notUTF8 = Array("\(src)/sub/bad-".utf8) + [0xFF, 0]
        let fd = notUTF8.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o640) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
        try FileManager.default.createSymbolicLink(atPath: "\(src)/link", withDestinationPath: "sub/quote\"back\\slash")
        try "linked\n".write(toFile: "\(src)/sub/linked", atomically: false, encoding: .utf8)
        try FileManager.default.linkItem(atPath: "\(src)/sub/linked", toPath: "\(src)/hard")
        XCTAssertEqual(mkfifo("\(src)/fifo", 0o600), 0)
        _ = "value".withCString { setxattr("\(src)/sub/plain.txt", "user.snap\"x", $0, 5, 0) }  // where the file system allows
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    private func object(_ line: Substring) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
    }

    /// Foundation's serialization of `object` with sorted keys.
    private func canonical(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    func testLsLinesAreCanonicalJSONWithEveryField() throws {
        try snap.expect(0, ["-r", repo, "backup", src])
        let lines = try snap.expect(0, ["-r", repo, "--json", "ls", "latest"]).stdout.split(separator: "\n")
        XCTAssertEqual(try object(lines[0])["message_type"] as? String, "snapshot")
        var byName: [String: [String: Any]] = [:]
        for line in lines.dropFirst() {
            let node = try object(line)
            try assertCanonicalJSON(line)
            XCTAssertEqual(node["message_type"] as? String, "node")
            XCTAssertEqual(node["struct_type"] as? String, "node")
            byName[try XCTUnwrap(node["name"] as? String)] = node
        }
        for name in oddNames {
            let node = try XCTUnwrap(byName[name], "\(name) is listed under its own name")
            XCTAssertEqual(node["path"] as? String, "\(src)/sub/\(name)")
            XCTAssertEqual(node["type"] as? String, "file")
            XCTAssertEqual((node["content"] as? [String])?.first?.count, 64)
            XCTAssertNil(node["name_bytes"], "a UTF-8 name has no name_bytes")
        }
        let bad = try XCTUnwrap(byName.first { $0.key.hasPrefix("bad-") }?.value)
        XCTAssertEqual(bad["name_bytes"] as? String, Data(Array("bad-".utf8) + [0xFF]).base64EncodedString())
        XCTAssertNil(bad["content"], "an empty file has no content")
        XCTAssertEqual(byName["link"]?["link_target"] as? String, "sub/quote\"back\\slash")
        XCTAssertEqual(byName["fifo"]?["type"] as? String, "fifo")
        XCTAssertEqual(byName["sub"]?["type"] as? String, "dir")
        XCTAssertEqual((byName["sub"]?["subtree"] as? String)?.count, 64)
        XCTAssertEqual(byName["sub"]?["mode"] as? UInt64, (1 << 31) | 0o755, "Go's FileMode, as restic's")
        XCTAssertEqual(byName["sub"]?["permissions"] as? String, "drwxr-xr-x")
        XCTAssertEqual(byName["fifo"]?["permissions"] as? String, "prw-------")
        XCTAssertEqual(byName["hard"]?["links"] as? Int, 2)
        // restic's type names: the further name of the hard-linked file is a "file" too,
        // whose link_target names the first (campaign 13 F4: it was "hardlink").
        let linked = try XCTUnwrap(lines.dropFirst().map(object).first { $0["path"] as? String == "\(src)/sub/linked" })
        XCTAssertEqual(linked["type"] as? String, "file")
        XCTAssertEqual(linked["link_target"] as? String, "\(src)/hard")
        if getxattr("\(src)/sub/plain.txt", "user.snap\"x", nil, 0) == 5 {
            XCTAssertEqual(byName["plain.txt"]?["xattrs"] as? [String: String], ["user.snap\"x": Data("value".utf8).base64EncodedString()])
        }
    }

    // A path argument that is not UTF-8 names its entry in ls and dump, as in restic
    // (campaign 13 F5: "is not in the snapshot").
    func testLsAndDumpTakePathsThatAreNotUTF8() throws {
        try snap.expect(0, ["-r", repo, "backup", src])
        let ls = try snap.run([], prefix: ["/bin/bash", "-c", "\"$0\" -r \(repo) ls latest $'\(src)/sub/bad-\\xff'"])
        XCTAssertEqual(ls.status, 0, ls.stderr)
        XCTAssertTrue(ls.stdout.contains("\(src)/sub/bad-\\xff"), ls.stdout)
        let dump = try snap.run([], prefix: ["/bin/bash", "-c", "\"$0\" -r \(repo) dump latest $'\(src)/sub/bad-\\xff' | wc -c"])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        XCTAssertEqual(dump.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0", "the file is empty")
        XCTAssertEqual(dump.stderr, "")
    }

    // stats' restore size counts a hard-linked file's bytes once, as restic counts each inode
    // once: a restore writes them once (campaign 13 F12).
    func testRestoreSizeCountsHardLinkedBytesOnce() throws {
        try String(repeating: "x", count: 100_000).write(toFile: "\(src)/sub/linked", atomically: false, encoding: .utf8)
        try snap.expect(0, ["-r", repo, "backup", src])
        var seen = Set<UInt64>(), expected = 0, files = 0
        let names = try XCTUnwrap(FileManager.default.enumerator(atPath: src))
        for case let relative as String in names {
            var st = stat()
            guard lstat("\(src)/\(relative)", &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            files += 1
            if seen.insert(UInt64(st.st_ino)).inserted { expected += Int(st.st_size) }
        }
        let stats = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "--json", "stats", "latest"]).stdout.utf8)) as? [String: Any])
        XCTAssertGreaterThan(expected, 100_000)
        XCTAssertEqual(stats["total_size"] as? Int, expected, "\(stats)")
    }

    func testFindAndCatTreeWriteTheSameNodesAsLs() throws {
        try snap.expect(0, ["-r", repo, "backup", src])
        try "later\n".write(toFile: "\(src)/sub/later.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["-r", repo, "backup", src])
        let snapshots = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "--json", "snapshots"]).stdout.utf8)) as? [[String: Any]])
        let ids = snapshots.compactMap { $0["id"] as? String }
        XCTAssertEqual(ids.count, 2)

        var listed: [String: [String: Any]] = [:]
        for line in try snap.expect(0, ["-r", repo, "--json", "ls", "latest"]).stdout.split(separator: "\n").dropFirst() {
            var node = try object(line)
            node["message_type"] = nil
            node["struct_type"] = nil
            listed[try XCTUnwrap(node["path"] as? String)] = node
        }

        let found = try snap.expect(0, ["-r", repo, "--json", "find", "*"]).stdout
        let groups = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(found.utf8)) as? [[String: Any]], found)
        XCTAssertEqual(groups.compactMap { $0["snapshot"] as? String }, ids, "one group per snapshot, oldest first")
        for group in groups {
            let matches = try XCTUnwrap(group["matches"] as? [[String: Any]])
            XCTAssertEqual(group["hits"] as? Int, matches.count)
            XCTAssertTrue(matches.allSatisfy { $0["message_type"] == nil })
        }
        let latest = try XCTUnwrap(groups.last?["matches"] as? [[String: Any]])
        XCTAssertEqual(Set(latest.compactMap { $0["path"] as? String }), Set(listed.keys))
        for match in latest {
            let path = try XCTUnwrap(match["path"] as? String)
            XCTAssertEqual(try canonical(match), try canonical(try XCTUnwrap(listed[path])), path)
        }
        XCTAssertEqual(groups.first.flatMap { $0["hits"] as? Int }, latest.count - 1, "the first snapshot lacks later.txt")

        let none = try snap.expect(0, ["-r", repo, "--json", "find", "no-such-name"]).stdout
        XCTAssertEqual(try XCTUnwrap(JSONSerialization.jsonObject(with: Data(none.utf8)) as? [Any]).count, 0)

        let subtree = try XCTUnwrap(listed[src + "/sub"]?["subtree"] as? String)
        let tree = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "cat", "tree", subtree]).stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(tree.count, oddNames.count + 3, "the odd names, bad-\\xff, linked and later.txt")
        for var node in tree {
            let name = try XCTUnwrap(node["name"] as? String)
            XCTAssertNil(node["path"], "cat tree has no paths")
            node["path"] = "\(src)/sub/\(name)"
            XCTAssertEqual(try canonical(node), try canonical(try XCTUnwrap(listed[src + "/sub/" + name])), name)
        }
    }

    func testDiffChangeLinesAreCanonicalJSON() throws {
        try snap.expect(0, ["-r", repo, "backup", src])
        try "changed\n".write(toFile: "\(src)/sub/\(oddNames[0])", atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(atPath: "\(src)/sub/\(oddNames[1])")
        try "new\n".write(toFile: "\(src)/sub/new \"one\"", atomically: false, encoding: .utf8)
        try snap.expect(0, ["-r", repo, "backup", src])
        let ids = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try snap.expect(0, ["-r", repo, "--json", "snapshots"]).stdout.utf8)) as? [[String: Any]]).compactMap { $0["id"] as? String }
        let lines = try snap.expect(0, ["-r", repo, "--json", "diff", ids[0], ids[1]]).stdout.split(separator: "\n")
        var changes: [String: String] = [:]
        for line in lines.dropLast() {
            let change = try object(line)
            try assertCanonicalJSON(line)
            XCTAssertEqual(change["message_type"] as? String, "change")
            changes[try XCTUnwrap(change["path"] as? String)] = change["modifier"] as? String
        }
        XCTAssertEqual(changes["\(src)/sub/\(oddNames[0])"], "M")
        XCTAssertEqual(changes["\(src)/sub/\(oddNames[1])"], "-")
        XCTAssertEqual(changes["\(src)/sub/new \"one\""], "+")
        XCTAssertEqual(try object(try XCTUnwrap(lines.last))["message_type"] as? String, "statistics")
    }
}
