@testable import SnapHTTP
import XCTest

/// A response body is allocated once at its announced size, not grown by copying.
final class ResponseSinkTests: XCTestCase {
    // Content-Length (HTTP) or the requested range (SFTP) sizes the body at its first bytes;
    // a body of unknown size grows as it arrives, and an announcement above the largest pack
    // a repository may hold reserves nothing.
    func testTheBodyIsReservedAtItsAnnouncedSize() {
        let http = ResponseSink()
        http.headers["content-length"] = String(16 << 20)
        http.bodyStarts(with: 16_384)
        XCTAssertGreaterThanOrEqual(http.body.capacity, 16 << 20)

        let sftp = ResponseSink()
        sftp.requestedLength = 3 << 20
        sftp.bodyStarts(with: 16_384)
        XCTAssertGreaterThanOrEqual(sftp.body.capacity, 3 << 20)

        let unknown = ResponseSink()
        unknown.bodyStarts(with: 16_384)
        XCTAssertLessThan(unknown.body.capacity, 16_384)

        let hostile = ResponseSink()
        hostile.headers["content-length"] = String(ResponseSink.largestReservation + 1)
        hostile.bodyStarts(with: 16_384)
        XCTAssertLessThan(hostile.body.capacity, 16_384)
    }
}
