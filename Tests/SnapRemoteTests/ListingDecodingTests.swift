import XCTest
import SnapStorage
@testable import SnapRemote

/// S3 XML and REST listings come from the server: inputs found by fuzzing them
/// (scripts/fuzz.sh, docs/fuzzing.md) and the rules the fuzz harness checks.
final class ListingDecodingTests: XCTestCase {
    private let pack = "a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f"

    // Fuzz target `s3xml`: FoundationXML trapped on an element name that is not UTF-8.
    func testXMLThatIsNotUTF8IsRefusedNotACrash() {
        XCTAssertNil(S3XMLNode.parse([0x3c, 0xff, 0x00, 0x73, 0x0a]))
        XCTAssertNil(S3XMLNode.parse(Array("<".utf8) + [0xff] + Array("s/>".utf8)))
        XCTAssertNil(S3ErrorBody(Array("<Error><Code>".utf8) + [0xff] + Array("s/></Code></Error>".utf8)))
        XCTAssertEqual(S3XMLNode.parse(Array("<a><b>é</b></a>".utf8))?.text(of: "b"), "é")
    }

    // Fuzz target `s3xml`: FoundationXML dereferenced a null pointer on a processing
    // instruction without data. Only a leading XML declaration is let through.
    func testProcessingInstructionsAreRefusedNotACrash() {
        XCTAssertNil(S3XMLNode.parse(Array("<?s?>".utf8)))
        XCTAssertNil(S3XMLNode.parse(Array("<?utfk7ketRcsultUTF-8b?>".utf8)))
        XCTAssertNil(S3XMLNode.parse(Array("<a><?s?></a>".utf8)))
        XCTAssertNil(S3XMLNode.parse(Array("<?xml ><?m?>".utf8)))
        XCTAssertNil(S3XMLNode.parse(Array("<?xml version=\"1.0\"?><a><?s x?></a>".utf8)))
        XCTAssertEqual(S3XMLNode.parse(Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>1</a>".utf8))?.text, "1")
    }

    func testListPageKeepsOnlyWellFormedFilesWithSizes() throws {
        let xml = """
            <ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken>
            <Contents><Key>r/data/a0/\(pack)</Key><Size> 12 </Size></Contents>
            <Contents><Key>r/data/a0/\(pack)</Key><Size>-1</Size></Contents>
            <Contents><Key>r/data/b0/\(pack)</Key><Size>1</Size></Contents>
            <Contents><Key>r/data/a0/../\(pack)</Key><Size>1</Size></Contents>
            <Contents><Key>r/data/a0/\(pack)</Key></Contents>
            </ListBucketResult>
            """
        let page = try XCTUnwrap(S3Backend.listPage(Array(xml.utf8), root: "r/", kinds: [.data]))
        XCTAssertEqual(page.files.map(\.info), [FileInfo(file: FileName(.data, pack), size: 12)])
        XCTAssertTrue(page.isTruncated)
        XCTAssertEqual(page.token, "t")
        XCTAssertNil(S3Backend.listPage(Array("<Error><Code>SlowDown</Code></Error>".utf8), root: "r/", kinds: [.data]))
    }

    // LastModified becomes the file's storage time, with or without a fraction of a second;
    // one that does not parse leaves the time unknown, and the entry listed.
    func testListPageReadsLastModified() throws {
        let other = String(pack.reversed())
        let third = String(repeating: "c", count: 64)
        let xml = """
            <ListBucketResult><IsTruncated>false</IsTruncated>
            <Contents><Key>r/locks/\(pack)</Key><LastModified>2026-12-05T06:40:01.250Z</LastModified><Size>5</Size></Contents>
            <Contents><Key>r/locks/\(other)</Key><LastModified> 2026-12-05T06:40:01Z </LastModified><Size>6</Size></Contents>
            <Contents><Key>r/locks/\(third)</Key><LastModified>yesterday</LastModified><Size>7</Size></Contents>
            </ListBucketResult>
            """
        let page = try XCTUnwrap(S3Backend.listPage(Array(xml.utf8), root: "r/", kinds: [.locks]))
        XCTAssertEqual(page.files.map(\.info.size), [5, 6, 7])
        let expected = 1_796_452_801.0  // 2026-12-05T06:40:01Z
        XCTAssertEqual(try XCTUnwrap(page.files[0].info.modified), expected + 0.25, accuracy: 0.001)
        XCTAssertEqual(page.files[1].info.modified, expected)
        XCTAssertNil(page.files[2].info.modified)
    }

    // A fraction of a second of a hundred digits (which kills Foundation's parser with
    // SIGFPE; found by the s3xml fuzz target) is cut to nanoseconds and read.
    func testListPageReadsAFractionOfManyDigits() throws {
        let long = "2026-12-05T06:40:01.25" + String(repeating: "5", count: 110) + "Z"
        let xml = """
            <ListBucketResult><IsTruncated>false</IsTruncated>
            <Contents><Key>r/locks/\(pack)</Key><LastModified>\(long)</LastModified><Size>5</Size></Contents>
            </ListBucketResult>
            """
        let page = try XCTUnwrap(S3Backend.listPage(Array(xml.utf8), root: "r/", kinds: [.locks]))
        XCTAssertEqual(try XCTUnwrap(page.files.first?.info.modified), 1_796_452_801.2555, accuracy: 0.001)
        XCTAssertEqual(S3ListingTime.fractionCut("2026-12-05T06:40:01.1234567891Z"), "2026-12-05T06:40:01.123456789Z")
        XCTAssertEqual(S3ListingTime.fractionCut("2026-12-05T06:40:01.123Z"), "2026-12-05T06:40:01.123Z")
        XCTAssertEqual(S3ListingTime.fractionCut("2026-12-05T06:40:01Z"), "2026-12-05T06:40:01Z")
    }

    // A REST server's names become paths of later reads and deletes: only well-formed names pass.
    func testRESTListingSkipsMalformedNamesAndNegativeSizes() throws {
        let json = """
            [{"name": "\(pack)", "size": 3}, {"name": "../keys/\(pack.prefix(56))", "size": 1},
             {"name": "\(pack.uppercased())", "size": 1}, {"name": "\(pack)", "size": -5}, {"name": "", "size": 0}]
            """
        XCTAssertEqual(RESTListing.files(Array(json.utf8), kind: .index), [FileInfo(file: FileName(.index, pack), size: 3)])
        XCTAssertNil(RESTListing.files(Array("{\"name\": 1}".utf8), kind: .index))
        XCTAssertEqual(RESTListing.files(Array("[]".utf8), kind: .index), [])
    }
}
