import XCTest
import SnapCore
import SnapEngine

final class TreeDecodingRejectionTests: XCTestCase {
    private func file(_ name: String) -> Node { TreeSamples.node(Array(name.utf8), .file, seed: 5) }

    /// Length of one node's encoding.
    private func bodyLength(_ node: Node) -> Int { Tree(nodes: [node]).encoded().count - 2 }

    private func assertRejected(_ bytes: [UInt8], at offset: Int? = nil, _ message: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Tree.decode(bytes), message, file: file, line: line) { error in
            guard let failure = error as? DecodingFailure else {
                return XCTFail("\(message): expected DecodingFailure, got \(type(of: error)): \(error)", file: file, line: line)
            }
            if let offset { XCTAssertEqual(failure.offset, offset, "\(message): \(failure)", file: file, line: line) }
        }
    }

    // The raw encoder used below writes valid trees exactly like Tree.encoded, so the rejections are due to the defect alone.
    func testRawEncodingOfValidNodesDecodes() throws {
        XCTAssertEqual(try Tree.decode(TreeSamples.rawEncoding([file("a"), file("b")])), Tree(nodes: [file("a"), file("b")]))
    }

    // Names out of order are rejected at the second entry.
    func testUnsortedNamesAreRejected() {
        assertRejected(TreeSamples.rawEncoding([file("b"), file("a")]), at: 2 + bodyLength(file("b")), "b before a")
        assertRejected(TreeSamples.rawEncoding([file("ab"), file("a")]), at: 2 + bodyLength(file("ab")), "ab before a")
        assertRejected(TreeSamples.rawEncoding([TreeSamples.node([0xff], .file, seed: 1), file("a")]), "0xff before a")
    }

    // A name that appears twice is rejected.
    func testDuplicateNamesAreRejected() {
        assertRejected(TreeSamples.rawEncoding([file("a"), file("a")]), at: 2 + bodyLength(file("a")), "a twice")
        assertRejected(TreeSamples.rawEncoding([file("a"), file("b"), file("b")]), "b twice")
    }

    // Empty names and names holding '/' or NUL are rejected.
    func testInvalidNamesAreRejected() {
        assertRejected(TreeSamples.rawEncoding([file("")]), at: 2, "empty name")
        assertRejected(TreeSamples.rawEncoding([file("a/b")]), at: 2, "slash inside")
        assertRejected(TreeSamples.rawEncoding([file("/")]), at: 2, "slash alone")
        assertRejected(TreeSamples.rawEncoding([TreeSamples.node([0x61, 0x00, 0x62], .file, seed: 1)]), at: 2, "NUL inside")
        assertRejected(TreeSamples.rawEncoding([file("a"), file("b/")]), at: 2 + bodyLength(file("a")), "second name with slash")
    }

    // The names "." and ".." are rejected, while names merely starting with dots are fine (FORMAT.md, "Trees").
    func testDotNamesAreRejected() throws {
        assertRejected(TreeSamples.rawEncoding([file(".")]), at: 2, "dot")
        assertRejected(TreeSamples.rawEncoding([file("..")]), at: 2, "dot dot")
        let dotted = [file("..."), file(".a"), file("..b")]
        XCTAssertEqual(try Tree.decode(Tree(nodes: dotted).encoded()), Tree(nodes: dotted))
    }

    // Extended attributes out of order or repeated are rejected (FORMAT.md: xattr names strictly increasing).
    // (The encoder sorts them, so the bad orders are made by editing a good encoding.)
    func testUnsortedXattrsAreRejected() {
        var node = file("x")
        node.xattrs = [ExtendedAttribute(name: Array("user.a".utf8), value: [1]), ExtendedAttribute(name: Array("user.b".utf8), value: [2])]
        let good = TreeSamples.rawEncoding([node])
        func renamed(_ bytes: [UInt8], _ edits: [(String, String)]) -> [UInt8] {
            var bytes = bytes
            var from = 0
            for (old, new) in edits {
                let old = Array(old.utf8), new = Array(new.utf8)
                guard let at = (from...(bytes.count - old.count)).first(where: { Array(bytes[$0..<$0 + old.count]) == old }) else {
                    XCTFail("no \(old) in the encoding"); return bytes
                }
                bytes.replaceSubrange(at..<at + old.count, with: new)
                from = at + old.count
            }
            return bytes
        }
        XCTAssertNoThrow(try Tree.decode(good))
        assertRejected(renamed(good, [("user.a", "user.b"), ("user.b", "user.a")]), "xattrs b before a")
        assertRejected(renamed(good, [("user.b", "user.a")]), "xattr a twice")
    }

    // Only files and hard links may list content blobs (FORMAT.md, "Trees").
    func testContentOnlyOnFilesAndHardLinks() throws {
        for type in NodeType.allCases where type != .file && type != .hardlink {
            var node = TreeSamples.node(Array("x".utf8), type, seed: 2)
            node.content = [TreeSamples.id(3)]
            assertRejected(TreeSamples.rawEncoding([node]), "\(type) with content")
        }
        let withContent = [TreeSamples.node(Array("f".utf8), .file, seed: 1), TreeSamples.node(Array("h".utf8), .hardlink, seed: 1)]
        XCTAssertFalse(withContent[1].content.isEmpty)
        XCTAssertEqual(try Tree.decode(Tree(nodes: withContent).encoded()), Tree(nodes: withContent))
    }

    // A directory must have a subtree and nothing else may.
    func testSubtreeMustMatchType() {
        var directory = TreeSamples.node(Array("d".utf8), .directory, seed: 1)
        directory.subtree = nil
        assertRejected(TreeSamples.rawEncoding([directory]), "directory without subtree")
        for type in NodeType.allCases where type != .directory {
            var node = TreeSamples.node(Array("x".utf8), type, seed: 1)
            node.subtree = TreeSamples.id(9)
            assertRejected(TreeSamples.rawEncoding([node]), "\(type) with subtree")
        }
    }

    // A type byte outside the known types and a subtree flag other than 0 or 1 are rejected.
    func testUnknownTypeAndFlagAreRejected() {
        let valid = TreeSamples.rawEncoding([file("a")])
        let typeOffset = 2 + 1 + 1  // header, name length, name
        XCTAssertEqual(valid[typeOffset], NodeType.file.rawValue)
        for bad: UInt8 in [8, 9, 0x80, 0xff] {
            var bytes = valid
            bytes[typeOffset] = bad
            assertRejected(bytes, "type \(bad)")
        }
        var flag = valid
        XCTAssertEqual(flag[flag.count - 1], 0)
        flag[flag.count - 1] = 2
        assertRejected(flag, at: flag.count - 1, "subtree flag 2")
    }

    // Versions other than 1, field values over their limits and counts beyond the data are rejected.
    func testVersionAndLimitsAreRejected() {
        var version = Tree(nodes: [file("a")]).encoded()
        for bad: UInt8 in [0, 2, 0x7f] {
            version[0] = bad
            assertRejected(version, "version \(bad)")
        }
        var mode = file("m")
        mode.mode = 0o10000
        assertRejected(Tree(nodes: [mode]).encoded(), "mode above 0o7777")
        var nanos = file("n")
        nanos.ctime.nanoseconds = 1_000_000_000
        assertRejected(Tree(nodes: [nanos]).encoded(), "a billion nanoseconds")
        assertRejected([1, 100], "100 nodes announced, none present")
        assertRejected([], "no bytes at all")
    }

    // Bytes after the last node are rejected.
    func testTrailingBytesAreRejected() {
        let valid = Tree(nodes: TreeSamples.everyType).encoded()
        assertRejected(valid + [0], at: valid.count, "one trailing zero")
        assertRejected(valid + valid, "the encoding twice")
        assertRejected(Tree(nodes: []).encoded() + [0], "empty tree with a trailing byte")
    }

    // Every truncation of a valid encoding throws DecodingFailure, never crashes.
    func testEveryTruncationIsRejected() {
        let valid = Tree(nodes: TreeSamples.everyType).encoded()
        for length in 0..<valid.count {
            assertRejected(Array(valid.prefix(length)), "truncated to \(length) of \(valid.count) bytes")
        }
    }

    // Changing any single byte either throws DecodingFailure or decodes to a tree whose encoding is exactly
    // those bytes (the decoder accepts only canonical encodings); it never crashes.
    func testSingleByteChangesNeverCrash() {
        let valid = Tree(nodes: TreeSamples.everyType).encoded()
        for i in valid.indices {
            for delta: UInt8 in [1, 0x80, 0xff] {
                var bytes = valid
                bytes[i] &+= delta
                do {
                    let tree = try Tree.decode(bytes)
                    XCTAssertEqual(tree.encoded(), bytes, "byte \(i) + \(delta) was accepted but is not canonical")
                } catch {
                    XCTAssertTrue(error is DecodingFailure, "byte \(i) + \(delta): \(type(of: error)) \(error)")
                }
            }
        }
    }
}
