import SnapRemote
import SnapStorage
import SnapTestSupport
import XCTest

/// The REST provider against a real `rclone serve restic`.
final class RESTBackendTests: XCTestCase {
    private func makeBackend() throws -> RESTBackend {
        let base = try RemoteTestServers.require("REST_URL", server: "REST")
        let backend = RESTBackend(url: base + RemoteTestServers.uniqueName("conformance") + "/",
                                  username: RemoteTestServers.environment["REST_USER"], password: RemoteTestServers.environment["REST_PASS"])
        try backend.create()
        return backend
    }

    // Every guarantee of the Backend contract holds against rclone's REST server.
    func testConformance() throws {
        _ = try RemoteTestServers.require("REST_URL", server: "REST")
        try BackendConformance.run(makeBackend: { try self.makeBackend() }, largeFileSize: 20 << 20)
    }

    // A server that is not there gives a transient error (worth retrying), naming the location.
    func testUnreachableServerIsTransient() throws {
        let backend = RESTBackend(url: "http://127.0.0.1:1/repo/")
        XCTAssertThrowsError(try backend.stat(.config)) { error in
            guard let e = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertTrue(e.isTransient, "\(e)")
            XCTAssertTrue(e.description.contains("127.0.0.1:1"), e.description)
        }
    }
}
