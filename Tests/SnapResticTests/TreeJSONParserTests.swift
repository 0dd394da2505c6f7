import XCTest
@testable import SnapRestic

final class TreeJSONParserTests: XCTestCase {
    private func parse(_ text: String) throws -> ResticTreeJSON {
        try ResticTreeJSON.parse(Array(text.utf8), tree: "test")
    }

    // A tree as restic writes it: Go's JSON escapes (\u003c, \u0026), Go-quoted names,
    // null content, base64 xattr values, large numbers.
    func testReadsResticTree() throws {
        let tree = try parse(#"""
            {"nodes":[{"name":"a\u003cb\u0026c\\xff","type":"file","mode":2147484141,"mtime":"2024-01-02T03:04:05.5Z",
            "uid":1000,"gid":100,"user":"me","inode":18446744073709551615,"size":3,"links":2,
            "extended_attributes":[{"name":"user.k","value":"aGk="},{"name":"user.empty","value":null}],
            "content":["0000000000000000000000000000000000000000000000000000000000000001"]},
            {"name":"d","type":"dir","content":null,"subtree":"0000000000000000000000000000000000000000000000000000000000000002"},
            {"name":"\ud83d\ude00 \"q\"","type":"symlink","linktarget":"x/y"}]}
            """#)
        let nodes = try XCTUnwrap(tree.nodes)
        XCTAssertEqual(nodes.count, 3)
        XCTAssertEqual(nodes[0].name, #"a<b&c\xff"#)
        XCTAssertEqual(try GoQuotedName.unquote(nodes[0].name), Array("a<b&c".utf8) + [0xff])
        XCTAssertEqual(nodes[0].mode, 2147484141)
        XCTAssertEqual(nodes[0].inode, .max)
        XCTAssertEqual(nodes[0].extendedAttributes?.map(\.name), ["user.k", "user.empty"])
        XCTAssertEqual(nodes[0].extendedAttributes?.first?.value.map(Array.init), Array("hi".utf8))
        XCTAssertEqual(nodes[0].content?.count, 1)
        XCTAssertNil(nodes[1].content)
        XCTAssertNotNil(nodes[1].subtree)
        XCTAssertEqual(nodes[2].name, "😀 \"q\"")
        XCTAssertEqual(try parse(#"{"nodes":null}"#).nodes?.count, nil)
        XCTAssertEqual(try parse(#" { "nodes" : [ ] } "#).nodes?.count, 0)
    }

    // Malformed JSON and fields of the wrong type are damage, not crashes.
    func testRefusesMalformedInput() {
        let bad = [#"{"nodes":[{"name":"a","type":"file"}]"#, #"{"nodes":[]} x"#, #"{"nodes":[{"name":"a","type":"file","size":-1}]}"#,
                   #"{"nodes":[{"name":"a","type":"file","size":"3"}]}"#, #"{"nodes":[{"name":"a","type":"file","content":["zz"]}]}"#,
                   #"{"nodes":[{"type":"file"}]}"#, #"{"nodes":"x"}"#, #"{"nodes":[{"name":"a\q","type":"file"}]}"#, "",
                   String(repeating: "[", count: 100) + String(repeating: "]", count: 100), #"{"nodes":[{"name":"a","type":"file","mode":1e3}]}"#]
        for text in bad {
            XCTAssertThrowsError(try parse(text), text) { error in
                guard case .damaged(let file, _)? = error as? ResticError else { return XCTFail("\(error)") }
                XCTAssertEqual(file, "tree test")
            }
        }
    }
}
