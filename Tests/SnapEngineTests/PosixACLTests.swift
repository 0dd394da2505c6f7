import XCTest
@testable import SnapEngine

final class PosixACLTests: XCTestCase {
    /// `setfacl -m u:1234:rw-,g:5678:r--` on a file of mode 0640, as the kernel gives it.
    private let attribute: [UInt8] = [
        2, 0, 0, 0,
        0x01, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,  // user::rw-
        0x02, 0, 6, 0, 0xd2, 0x04, 0, 0,         // user:1234:rw-
        0x04, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,  // group::r--
        0x08, 0, 4, 0, 0x2e, 0x16, 0, 0,         // group:5678:r--
        0x10, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,  // mask::rw-
        0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,  // other::---
    ]

    func testAttributeToTextAndBack() throws {
        let acl = try XCTUnwrap(PosixACL(attribute: attribute))
        XCTAssertEqual(acl.text, "user::rw-,user:1234:rw-,group::r--,group:5678:r--,mask::rw-,other::---")
        XCTAssertEqual(acl.attribute, attribute)
        XCTAssertEqual(PosixACL(text: acl.text)?.attribute, attribute)
    }

    func testMalformedAttributesAreNotACLs() {
        XCTAssertNil(PosixACL(attribute: []))
        XCTAssertNil(PosixACL(attribute: [1, 0, 0, 0] + attribute.dropFirst(4)), "version 1")
        XCTAssertNil(PosixACL(attribute: Array(attribute.dropLast())), "a cut entry")
        XCTAssertNil(PosixACL(attribute: [2, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0]), "an unknown tag")
        XCTAssertNil(PosixACL(attribute: [2, 0, 0, 0, 0x01, 0, 8, 0, 0, 0, 0, 0]), "a permission bit beyond rwx")
    }

    // Text as GNU tar (names, new lines, comments), star and bsdtar (a fourth field with the
    // number) and short tags write it; entries come out in the kernel's order.
    func testTextForms() throws {
        let users = ["alice": UInt32(1234)], groups = ["staff": UInt32(5678)]
        let gnu = "user::rw-\nuser:alice:rw-\t#effective:r--\ngroup::r--\ngroup:staff:r--\nmask::rw-\nother::---\n"
        let parsed = try XCTUnwrap(PosixACL(text: gnu, userID: { users[$0] }, groupID: { groups[$0] }))
        XCTAssertEqual(parsed.attribute, attribute)
        let star = "user::rw-,user:bob:rw-:1234,group::r--,group:wheel:r--:5678,mask::rw-,other::---"
        XCTAssertEqual(PosixACL(text: star)?.attribute, attribute)
        let shuffled = "o::---,m::rw-,g:5678:r--,g::r--,u:1234:rw-,u::rw-"
        XCTAssertEqual(PosixACL(text: shuffled)?.attribute, attribute)
    }

    func testTextThatIsNoACL() {
        XCTAssertNil(PosixACL(text: ""))
        XCTAssertNil(PosixACL(text: "user:nobody-here:rw-"), "a name nobody knows")
        XCTAssertNil(PosixACL(text: "user::rwz"))
        XCTAssertNil(PosixACL(text: "mask:12:rw-"), "a mask with a qualifier")
        XCTAssertNil(PosixACL(text: "owner::rw-"))
        XCTAssertNil(PosixACL(text: "user:1:rw-:2:3"))
    }
}
