import XCTest
import SnapEngine

final class TreeLookupTests: XCTestCase {
    // node(named:) finds every node of a tree, whatever its position.
    func testFindsEveryNode() {
        var names: [[UInt8]] = (0..<40).map { Array("entry-\($0)".utf8) }
        names += [[0xff], [0x01], [0xff, 0xff], Array("a".utf8)]
        let tree = Tree(nodes: names.enumerated().map { TreeSamples.node($1, .fifo, seed: UInt64($0)) })
        for (i, name) in names.enumerated() {
            XCTAssertEqual(tree.node(named: name), TreeSamples.node(name, .fifo, seed: UInt64(i)), shown(name))
        }
    }

    // node(named:) returns nil for names before, between and after the stored ones, prefixes and extensions.
    func testAbsentNamesAreNil() {
        let tree = Tree(nodes: ["b", "bd", "f"].map { TreeSamples.node(Array($0.utf8), .socket, seed: 0) })
        for absent in ["a", "c", "bc", "be", "bdd", "g", "B", "", "ff"] {
            XCTAssertNil(tree.node(named: Array(absent.utf8)), "'\(absent)'")
        }
        XCTAssertNil(tree.node(named: [0xff]))
        XCTAssertNil(Tree(nodes: []).node(named: Array("b".utf8)))
    }
}

private func shown(_ name: [UInt8]) -> String { Node(name: name, type: .file).displayName }
