import SnapCore
import SnapRepository
import XCTest
@testable import SnapEngine

/// The digest check keeps of each indexed pack's entries in place of the entries.
final class PackEntryDigestTests: XCTestCase {
    private func entry(_ n: UInt8, offset: UInt32, type: BlobType = .data) -> PackEntry {
        PackEntry(type: type, id: BlobID(raw: RawID(bytes: [UInt8](repeating: n, count: 32))!), offset: offset, length: 100, rawLength: 90)
    }

    // The same entries in any order give one digest; any changed field, a missing or an
    // extra entry gives another.
    func testDigestDependsOnTheEntriesNotTheirOrder() {
        let entries = [entry(1, offset: 0), entry(2, offset: 100), entry(3, offset: 200, type: .tree)]
        let digest = PackVerifier.digest(of: entries)
        XCTAssertEqual(PackVerifier.digest(of: entries.reversed()), digest)
        var changed = entries
        changed[1].rawLength = 91
        var retyped = entries
        retyped[2].type = .data
        for other in [changed, retyped, Array(entries.dropLast()), entries + [entry(4, offset: 300)], [entry(9, offset: 0)] + entries.dropFirst()] {
            XCTAssertNotEqual(PackVerifier.digest(of: other), digest, "\(other)")
        }
    }
}
