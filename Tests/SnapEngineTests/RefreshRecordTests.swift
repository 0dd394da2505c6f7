import XCTest
@testable import SnapEngine

/// What a backup asks before saving its snapshot: did its lock ever go without a write for
/// long enough that other hosts took it for dead? A refresh after the gap (a laptop that
/// woke up and refreshed at once) must not hide it.
final class RefreshRecordTests: XCTestCase {
    func testTheLongestGapSurvivesLaterRefreshes() {
        var record = RefreshRecord(at: 100)
        XCTAssertEqual(record.longestSilence(at: 130), 30)
        record.refreshed(at: 400)      // every 300 s, as usual
        record.refreshed(at: 3_100)    // 45 minutes asleep, refreshed on waking
        record.refreshed(at: 3_400)
        XCTAssertEqual(record.longestSilence(at: 3_410), 2_700)
        XCTAssertEqual(record.longestSilence(at: 9_000), 5_600, "a gap still open counts too")
    }
}
