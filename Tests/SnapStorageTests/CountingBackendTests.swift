import XCTest
import SnapStorage
import SnapTestSupport

final class CountingBackendTests: XCTestCase {
    // Every kind of request is counted with the bytes it moved; failed requests count too.
    func testCountsRequestsAndBytesPerKind() throws {
        let counting = CountingBackend(MemoryBackend())
        let a = FileName(.data, BackendConformance.fileName(1)), b = FileName(.index, BackendConformance.fileName(2))
        try counting.write(a, data: [UInt8](repeating: 7, count: 1000))
        try counting.writeMetadata(b, data: [1, 2, 3])
        XCTAssertEqual(try counting.read(a, range: 10..<110).count, 100)
        _ = try counting.readMetadata(b) { _ in true }
        _ = try counting.readMetadata(a, range: 0..<10, isValid: { _ in true }, rangeIsValid: { _ in true })
        XCTAssertEqual(try counting.stat(a).size, 1000)
        XCTAssertEqual(try counting.list(.data).count, 1)
        try counting.delete(b)
        XCTAssertThrowsError(try counting.read(b, range: nil))
        XCTAssertNoThrow(try counting.delete(b))

        let staged = try counting.makeStagedFile()
        try staged.append([UInt8](repeating: 1, count: 50))
        try counting.write(FileName(.data, BackendConformance.fileName(3)), staged: staged)

        let c = counting.counts
        XCTAssertEqual(c[.write], 3)
        XCTAssertEqual(c.bytes[.write], 1000 + 3 + 50)
        XCTAssertEqual(c[.read], 4)
        XCTAssertEqual(c.bytes[.read], 100 + 3 + 10)
        XCTAssertEqual(c[.stat], 1)
        XCTAssertEqual(c[.list], 1)
        XCTAssertEqual(c.bytes[.list], 1, "files listed")
        XCTAssertEqual(c[.delete], 2)
        XCTAssertEqual(c.total, 11)
    }

    // Kinds listed one by one count a listing each; listed together, one listing in all.
    func testListingSeveralKindsCountsWhatTheProviderDid() throws {
        let memory = MemoryBackend()
        try memory.write(FileName(.index, BackendConformance.fileName(1)), data: [1])
        try memory.write(FileName(.snapshots, BackendConformance.fileName(2)), data: [2])
        let oneByOne = CountingBackend(memory)
        let listing = try oneByOne.list(kinds: [.locks, .snapshots, .index])
        XCTAssertTrue(listing.inRequestedOrder)
        XCTAssertEqual(oneByOne.counts[.list], 3)
        XCTAssertEqual(oneByOne.counts.bytes[.list], 2, "files listed")

        XCTAssertFalse(oneByOne.listsKindsTogether)
        let together = CountingBackend(TogetherListing(memory))
        XCTAssertTrue(together.listsKindsTogether, "passed on from the backend it wraps")
        XCTAssertFalse(try together.list(kinds: [.locks, .snapshots, .index]).inRequestedOrder)
        XCTAssertEqual(together.counts[.list], 1)
        XCTAssertEqual(together.counts.bytes[.list], 2)
    }

    // A log keeps every counting backend it made, merged per location in first-seen order.
    func testLogMergesBackendsOfOneLocation() throws {
        let log = RequestLog()
        let memory = MemoryBackend()
        let first = log.counting(memory), second = log.counting(memory)
        let file = FileName(.snapshots, BackendConformance.fileName(4))
        try first.write(file, data: [1])
        _ = try second.read(file, range: nil)
        _ = try second.list(.snapshots)
        let entries = log.entries
        XCTAssertEqual(entries.map(\.location), [memory.location])
        XCTAssertEqual(entries.first?.counts[.write], 1)
        XCTAssertEqual(entries.first?.counts[.read], 1)
        XCTAssertEqual(entries.first?.counts[.list], 1)
    }
}

/// Answers `list(kinds:)` as one listing, as S3 does.
private final class TogetherListing: ForwardingBackend, @unchecked Sendable {
    override var listsKindsTogether: Bool { true }
    override func list(kinds: [FileKind]) throws -> KindListing {
        KindListing(files: try KindListing.oneByOne(kinds, from: base).files, inRequestedOrder: false)
    }
}
