import Foundation
import SnapHTTP
import SnapTestSupport
import XCTest

/// The libcurl wrapper, exercised without a server through `file://` URLs and a closed port.
final class CurlSessionFileTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "snap-http-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    // A whole file and a byte range come back exactly.
    func testReadsWholeFileAndRange() throws {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(folder)/blob"))
        let session = CurlSession()
        XCTAssertEqual(try session.perform(Transfer(url: "file://\(folder)/blob")).body, bytes)
        var ranged = Transfer(url: "file://\(folder)/blob")
        ranged.range = 1000..<1100
        XCTAssertEqual(try session.perform(ranged).body, Array(bytes[1000..<1100]))
    }

    // Handles are reused: many transfers through a pool of one all succeed.
    func testHandlesAreReused() throws {
        try Data("abc".utf8).write(to: URL(fileURLWithPath: "\(folder)/small"))
        let session = CurlSession(maxHandles: 1)
        for _ in 0..<50 { XCTAssertEqual(try session.perform(Transfer(url: "file://\(folder)/small")).body, Array("abc".utf8)) }
    }

    // A server that takes the connection and never answers: the transfer fails as timed out
    // after the session's stall time, not libcurl's default of waiting for ever.
    func testAStalledTransferTimesOut() throws {
        let server = try SilentServer()
        let started = Date()
        XCTAssertThrowsError(try CurlSession(stallSeconds: 1).perform(Transfer(url: "http://127.0.0.1:\(server.port)/config"))) { error in
            XCTAssertEqual((error as? TransferError)?.kind, .timedOut, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "gave up after the stall time")
    }

    // A missing file is classified as not found.
    func testMissingFileIsNotFound() throws {
        XCTAssertThrowsError(try CurlSession().perform(Transfer(url: "file://\(folder)/absent"))) { error in
            XCTAssertEqual((error as? TransferError)?.kind, .notFound, "\(error)")
        }
    }

    // A refused connection is transient (worth retrying), and the message says what happened.
    func testRefusedConnectionIsTransient() throws {
        var t = Transfer(url: "http://127.0.0.1:1/")
        t.connectTimeout = 5
        XCTAssertThrowsError(try CurlSession().perform(t)) { error in
            let e = error as? TransferError
            XCTAssertEqual(e?.kind, .transient)
            XCTAssertFalse(e?.message.isEmpty ?? true)
        }
    }

    // An unsupported scheme is permanent.
    func testUnsupportedSchemeIsPermanent() throws {
        XCTAssertThrowsError(try CurlSession().perform(Transfer(url: "nosuchscheme://x/y"))) { error in
            XCTAssertEqual((error as? TransferError)?.kind, .permanent)
        }
    }
}

