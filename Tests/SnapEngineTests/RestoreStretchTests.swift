import XCTest
import SnapCore
@testable import SnapEngine
@testable import SnapRepository

/// How restore cuts a pack's needed blobs into read requests (`BlobStretches.split`).
final class RestoreStretchTests: XCTestCase {
    private let pack = PackID(raw: RawID(bytes: [UInt8](repeating: 7, count: 32))!)

    /// Blobs of `length` bytes laid end to end from offset 0, with `gapAfter` unneeded bytes after blob i.
    private func blobs(count: Int, length: Int, gapAfter: [Int: Int] = [:]) -> [BlobLocation] {
        var offset = 0
        return (0..<count).map { i in
            let id = BlobID(raw: RawID(bytes: (0..<32).map { UInt8(truncatingIfNeeded: i >> ($0 % 4 * 8)) ^ UInt8($0) })!)
            let location = BlobLocation(pack: pack, salt: [], entry: PackEntry(type: .data, id: id, offset: UInt32(offset),
                                                                           length: UInt32(length), rawLength: UInt32(length)))
            offset += length + (gapAfter[i] ?? 0)
            return location
        }
    }

    // With two workers a whole 16 MiB pack is one request; sixteen workers share the same
    // 64 MiB of buffers in 4 MiB requests.
    func testTheLimitFollowsTheWorkersBudget() {
        XCTAssertEqual(Restorer.stretchLimit(workers: 1), 32 << 20)
        XCTAssertEqual(Restorer.stretchLimit(workers: 2), 32 << 20)
        XCTAssertEqual(Restorer.stretchLimit(workers: 8), 8 << 20)
        XCTAssertEqual(Restorer.stretchLimit(workers: 16), 4 << 20)
        XCTAssertEqual(Restorer.stretchLimit(workers: 64), 4 << 20)

        let pack = blobs(count: 64, length: 256 << 10)  // 16 MiB
        XCTAssertEqual(BlobStretches.split(pack, limit: Restorer.stretchLimit(workers: 2)).count, 1)
        let small = BlobStretches.split(pack, limit: Restorer.stretchLimit(workers: 16))
        XCTAssertEqual(small.count, 4)
        XCTAssertEqual(small.flatMap { $0 }.map(\.entry.offset), pack.map(\.entry.offset), "every blob once, in order")
    }

    // A gap of unneeded blobs over 256 KiB starts a new request; a smaller one is read through.
    func testLargeGapsSplitAndSmallGapsDoNot() {
        let spread = blobs(count: 6, length: 100_000, gapAfter: [1: 300 << 10, 3: 200 << 10])
        let stretches = BlobStretches.split(spread.shuffled(), limit: 32 << 20)
        XCTAssertEqual(stretches.map { $0.count }, [2, 4])
    }
}
