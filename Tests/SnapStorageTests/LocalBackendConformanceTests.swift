import XCTest
import SnapStorage
import SnapTestSupport

final class LocalBackendConformanceTests: XCTestCase {
    // LocalBackend, in a fresh temporary folder per check, meets every guarantee of the Backend protocol.
    func testConformance() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var count = 0
        try BackendConformance.run(makeBackend: {
            count += 1
            return LocalBackend(root: directory.appending("repo-\(count)"))
        })
        XCTAssertEqual(count, BackendConformance.checkNames.count)
    }
}
