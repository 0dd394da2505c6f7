import XCTest
import SnapStorage

/// When a listing of several kinds is known to hold what preceded a file it lists.
final class KindListingTests: XCTestCase {
    private func snapshot(storedAt time: Double?) -> FileInfo {
        FileInfo(file: FileName(.snapshots, String(repeating: "a", count: 64)), size: 10, modified: time)
    }

    // Kinds listed one after another in the order asked need no times.
    func testAListingInOrderHoldsWhatPreceded() {
        let listing = KindListing(files: [:], inRequestedOrder: true)
        XCTAssertTrue(listing.includesWhatPreceded(snapshot(storedAt: nil)))
    }

    // Listed together, a file must be older than the listing's start by the margin.
    func testAListingTogetherNeedsAFileStoredBeforeItBegan() {
        let began = 1_000_000.0
        let listing = KindListing(files: [:], inRequestedOrder: false, began: began)
        XCTAssertTrue(listing.includesWhatPreceded(snapshot(storedAt: began - KindListing.clockMargin - 0.5)))
        XCTAssertFalse(listing.includesWhatPreceded(snapshot(storedAt: began - KindListing.clockMargin + 0.5)))
        XCTAssertFalse(listing.includesWhatPreceded(snapshot(storedAt: began + 10)))
        XCTAssertFalse(listing.includesWhatPreceded(snapshot(storedAt: nil)), "a file without a time")
        let unknownStart = KindListing(files: [:], inRequestedOrder: false)
        XCTAssertFalse(unknownStart.includesWhatPreceded(snapshot(storedAt: 0)), "a listing without a start")
    }
}
