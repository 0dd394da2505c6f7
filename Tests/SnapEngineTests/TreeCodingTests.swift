import XCTest
import SnapCore
import SnapEngine
import SnapTestSupport

final class TreeCodingTests: XCTestCase {
    // Nodes of every type with every field set survive encode → decode unchanged.
    func testRoundTripOfEveryNodeType() throws {
        let tree = Tree(nodes: TreeSamples.everyType)
        let decoded = try Tree.decode(tree.encoded())
        XCTAssertEqual(decoded, tree)
        XCTAssertEqual(decoded.nodes.count, NodeType.allCases.count)
        for original in TreeSamples.everyType {
            XCTAssertEqual(decoded.node(named: original.name), original, "node \(original.displayName)")
        }
    }

    // Decoded nodes come back sorted by raw name bytes (0xff sorts after ASCII).
    func testNodesAreSortedByRawBytes() throws {
        let names: [[UInt8]] = [[0xff], Array("b".utf8), Array("B".utf8), Array("a".utf8), Array("ab".utf8), [0x80, 0x01]]
        let tree = Tree(nodes: names.enumerated().map { TreeSamples.node($1, .file, seed: UInt64($0)) })
        let decoded = try Tree.decode(tree.encoded())
        XCTAssertEqual(decoded.nodes.map(\.name), [Array("B".utf8), Array("a".utf8), Array("ab".utf8), Array("b".utf8), [0x80, 0x01], [0xff]])
    }

    // The same nodes in any input order encode to identical bytes.
    func testEncodingIsCanonical() {
        let nodes = TreeSamples.everyType + [TreeSamples.node(Array("zzz".utf8), .file, seed: 77)]
        let reference = Tree(nodes: nodes).encoded()
        var generator = SplitMix64(seed: 42)
        for _ in 0..<20 {
            XCTAssertEqual(Tree(nodes: nodes.shuffled(using: &generator)).encoded(), reference)
        }
        XCTAssertEqual(Tree(nodes: nodes.reversed()).encoded(), reference)
    }

    // Extended attributes given in any order (a restic tree keeps listxattr's) are stored
    // sorted by name, each name once, so the tree decodes; the same set encodes the same.
    func testExtendedAttributesAreStoredSortedAndUnique() throws {
        func attribute(_ name: String, _ value: String) -> ExtendedAttribute { ExtendedAttribute(name: Array(name.utf8), value: Array(value.utf8)) }
        var node = TreeSamples.node(Array("f".utf8), .file, seed: 3)
        node.xattrs = [attribute("user.zz", "1"), attribute("user.aa", "2"), attribute("user.zz", "3"), attribute("security.x", "4")]
        let decoded = try Tree.decode(Tree(nodes: [node]).encoded())
        XCTAssertEqual(decoded.nodes[0].xattrs, [attribute("security.x", "4"), attribute("user.aa", "2"), attribute("user.zz", "1")])
        var sorted = node
        sorted.xattrs = decoded.nodes[0].xattrs
        XCTAssertEqual(Tree(nodes: [sorted]).encoded(), Tree(nodes: [node]).encoded())
    }

    // An empty tree round-trips and changing one field changes the encoding.
    func testEmptyTreeAndFieldSensitivity() throws {
        XCTAssertEqual(try Tree.decode(Tree(nodes: []).encoded()), Tree(nodes: []))
        var node = TreeSamples.node(Array("f".utf8), .file, seed: 1)
        let before = Tree(nodes: [node]).encoded()
        node.mtime.nanoseconds -= 1
        XCTAssertNotEqual(Tree(nodes: [node]).encoded(), before)
    }

    // The header of an encoding is the version (1) followed by the node count.
    func testHeaderIsVersionAndCount() {
        let bytes = Tree(nodes: TreeSamples.everyType).encoded()
        XCTAssertEqual(Array(bytes.prefix(2)), [1, UInt8(NodeType.allCases.count)])
        XCTAssertEqual(TreeSamples.rawEncoding(Tree(nodes: TreeSamples.everyType).nodes), bytes)
    }
}
