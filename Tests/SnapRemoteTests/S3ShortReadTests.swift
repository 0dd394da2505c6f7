import XCTest
import Foundation
import SnapStorage
@testable import SnapRemote

/// Responses no honest S3 server sends, from a tiny local HTTP server (python3), to check that
/// the backend never returns fewer bytes than asked for.
final class S3ShortReadTests: XCTestCase {
    /// Answers every GET with 5 of the 10 bytes a range asks for (a consistent 206 with a short
    /// body), or, for whole reads, announces 1000 bytes and closes after 5; HEAD says 1000 bytes.
    private static let script = """
        import http.server, socketserver, sys
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def do_HEAD(self):
                self.send_response(200); self.send_header("Content-Length", "1000"); self.end_headers()
            def do_GET(self):
                if "Range" in self.headers:
                    self.send_response(206); self.send_header("Content-Range", "bytes 0-4/1000")
                    self.send_header("Content-Length", "5"); self.end_headers(); self.wfile.write(b"12345")
                else:
                    self.send_response(200); self.send_header("Content-Length", "1000"); self.end_headers()
                    self.wfile.write(b"12345"); self.wfile.flush(); self.close_connection = True
        s = socketserver.TCPServer(("127.0.0.1", 0), H)
        open(sys.argv[1], "w").write(str(s.server_address[1]))
        s.serve_forever()
        """

    private var process: Process?
    private var dir: String?

    override func tearDown() {
        process?.terminate()
        process?.waitUntilExit()
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
    }

    private func startServer() throws -> Int {
        let dir = NSTemporaryDirectory() + "snap-short-read-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        self.dir = dir
        let portFile = dir + "/port"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, portFile]
        try process.run()
        self.process = process
        for _ in 0..<100 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) { return port }
            usleep(50_000)
        }
        throw S3ConfigurationError("the fake server did not start")
    }

    func testShortRangedReadIsTransient() throws {
        let port = try startServer()
        let backend = try S3Backend(location: try S3Location.parse("s3:http://127.0.0.1:\(port)/bkt", environment: [:]),
                                    credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "b"))
        let file = FileName(.data, String(repeating: "0", count: 64))
        XCTAssertThrowsError(try backend.read(file, range: 0..<10)) { error in
            XCTAssertTrue((error as? StorageError)?.isTransient ?? false, "\(error)")
            XCTAssertTrue(String(describing: error).contains("short read"), "\(error)")
        }
        XCTAssertThrowsError(try backend.read(file)) { error in
            XCTAssertTrue((error as? StorageError)?.isTransient ?? false, "\(error)")
        }
    }
}
