import Foundation
import SnapTestSupport
import XCTest

/// The cache keeps itself tidy: a key hint's temporary file left by a command that was
/// killed while writing it is removed by a later command once it is an hour old.
final class CacheCleanupTests: XCTestCase {
    func testLeftoverTemporaryFilesOfKeyHintsAreRemoved() throws {
        let work = try makeTemporaryFolder("cache-cleanup")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_REPOSITORY": "\(work)/repo", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init", "-q"])
        let hints = "\(work)/cache/key-hints"
        try FileManager.default.createDirectory(atPath: hints, withIntermediateDirectories: true)
        let old = "\(hints)/.dat.nosync0a1b.X1y2Z3", fresh = "\(hints)/.dat.nosync4c5d.Q7r8S9"
        for path in [old, fresh] { try Data("partial".utf8).write(to: URL(fileURLWithPath: path)) }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: old)
        try snap.expect(0, ["snapshots", "-q"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: old), "an hour-old leftover is removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh), "a recent one may be another command's write")
    }
}
