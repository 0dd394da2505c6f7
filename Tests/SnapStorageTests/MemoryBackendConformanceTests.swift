import XCTest
import SnapStorage
import SnapTestSupport

final class MemoryBackendConformanceTests: XCTestCase {
    // MemoryBackend meets every guarantee of the Backend protocol.
    func testConformance() throws {
        try BackendConformance.run(makeBackend: { MemoryBackend() })
    }

    // tamper changes a stored file's bytes (for damage tests) and ignores missing files.
    func testTamper() throws {
        let backend = MemoryBackend()
        let file = FileName(.data, BackendConformance.fileName(1))
        try backend.write(file, data: [1, 2, 3])
        backend.tamper(file) { $0[1] = 9 }
        XCTAssertEqual(try backend.read(file), [1, 9, 3])
        backend.tamper(FileName(.data, BackendConformance.fileName(2))) { $0 = [0] }
        XCTAssertEqual(try backend.list(.data).count, 1)
    }
}
