import Foundation
import XCTest
@testable import SnapEngine

/// `BackupProgress`: counters that many reader threads add to at once, and the path being
/// read, kept as bytes and shown as `PathBytes.display` shows them.
final class BackupProgressTests: XCTestCase {
    // Eight threads count files and bytes at once: nothing is lost.
    func testCountsFromManyThreadsAddUp() {
        let progress = BackupProgress()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for i in 0..<2000 {
                progress.bytesRead(2)
                progress.fileDone(bytes: 3)
                if i % 100 == 0 { progress.error() }
                progress.scanned(files: 1, bytes: 5)
                progress.setCurrent(Array("/src/t\(thread)/f\(i)".utf8))
            }
        }
        progress.scanFinished()
        let counts = progress.snapshot
        XCTAssertEqual(counts.files, 16_000)
        XCTAssertEqual(counts.bytes, 16_000 * 5)
        XCTAssertEqual(counts.errors, 160)
        XCTAssertEqual(counts.totalFiles, 16_000)
        XCTAssertEqual(counts.totalBytes, 16_000 * 5)
        XCTAssertTrue(counts.scanFinished)
        XCTAssertTrue(counts.currentPath.hasPrefix("/src/t"), counts.currentPath)
    }

    // The current path is made displayable when asked for, as every other path is.
    func testCurrentPathIsShownAsPathsAreShown() {
        let progress = BackupProgress()
        XCTAssertEqual(progress.snapshot.currentPath, "")
        let odd: [UInt8] = Array("/src/caf".utf8) + [0xE9] + Array("\nx".utf8)
        progress.setCurrent(odd)
        XCTAssertEqual(progress.snapshot.currentPath, PathBytes.display(odd))
        XCTAssertNotEqual(progress.snapshot.currentPath, String(decoding: odd, as: UTF8.self))
    }
}
