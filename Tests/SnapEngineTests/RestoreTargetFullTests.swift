#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest
import SnapCore
import SnapEngine
import SnapTestSupport

/// A restore onto a file system that fills up stops at once, says so, and leaves no file
/// that looks restored but is not.
final class RestoreTargetFullTests: XCTestCase {
    /// A 2 MiB tmpfs mounted on a fresh folder (needs root), unmounted by `unmount()`.
    final class SmallFileSystem {
        let directory: TemporaryDirectory
        var path: String { directory.path }

        init(size: String = "2m") throws {
            directory = try TemporaryDirectory(prefix: "snap-engine-full")
            let status = Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", directory.path])
            guard status == 0 else {
                directory.remove()
                throw XCTSkip("cannot mount a \(size) tmpfs (needs root and mount permission; mount exited \(status))")
            }
        }

        func unmount() {
            _ = Self.run("/bin/umount", [directory.path])
            directory.remove()
        }

        private static func run(_ tool: String, _ arguments: [String]) -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do { try process.run() } catch { return -1 }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// About 5 MiB of incompressible files in two folders: one-chunk files (written whole)
    /// and multi-chunk files (created at their size first), all with a time in 2001.
    private func makeSource(_ f: BackupFixture) throws -> [UInt8] {
        let src = f.sourcePath(Disk.bytes("src"))
        try Disk.mkdir(src)
        for folder in ["small", "large"] { try Disk.mkdir(PathBytes.join(src, Disk.bytes(folder))) }
        for i in 0..<60 {
            let path = PathBytes.join(src, Disk.bytes("small/f\(i).bin"))
            try Disk.write(path, seededBytes(count: 12_000 + i * 100, seed: UInt64(100 + i)))
            try Disk.setMtime(path, seconds: 1_000_000_000 + i)
        }
        for i in 0..<10 {
            let path = PathBytes.join(src, Disk.bytes("large/g\(i).bin"))
            try Disk.write(path, seededBytes(count: 400_000 + i * 1000, seed: UInt64(200 + i)))
            try Disk.setMtime(path, seconds: 1_000_000_000 + i)
        }
        return src
    }

    func testFullTargetStopsTheRestoreAndLeavesNoFileThatLooksComplete() throws {
        let f = try BackupFixture()
        let src = try makeSource(f)
        let backup = try f.backup([f.source("src")])
        let full = try SmallFileSystem()
        defer { full.unmount() }

        let start = ContinuousClock.now
        let result = try f.restore(backup.snapshot.tree, into: full.path)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(30))

        XCTAssertFalse(result.succeeded)
        let stop = try XCTUnwrap(result.stopped, "a full target stops the restore")
        XCTAssertEqual(stop.code, ENOSPC)
        XCTAssertEqual(stop.fileSystem, full.path)
        XCTAssertTrue(stop.path.hasPrefix(full.path + "/"), stop.path)
        XCTAssertEqual(stop.description, "no space left on device writing \(stop.path) (target file system \(full.path))")
        XCTAssertTrue(result.damagedBlobs.isEmpty, "nothing in the repository is damaged: \(result.damagedBlobs.map(\.reason))")
        XCTAssertTrue(result.unreadableFolders.isEmpty)

        // Every file in the target is byte-identical to its source; the others are absent.
        let restoredRoot = PathBytes.join(Disk.bytes(full.path), Array(src.dropFirst()))
        let listing = Disk.exists(restoredRoot) ? try Disk.listing(restoredRoot) : [:]
        var identical = 0
        for (relative, entry) in listing {
            guard case let .file(content) = entry.kind else { continue }
            let original = try Disk.read(PathBytes.join(src, relative))
            XCTAssertEqual(content.count, original.count, "\(PathBytes.display(relative)) has another size than its source")
            XCTAssertTrue(content == original, "\(PathBytes.display(relative)) is present but differs from its source")
            identical += 1
        }
        XCTAssertLessThan(identical, 70, "a 2 MiB target cannot hold the whole 5 MiB snapshot")
        XCTAssertEqual(result.files, identical, "files counted as restored are the files present")
        // Files started but not finished are reported and none of them is left behind.
        for path in result.unwritten {
            XCTAssertFalse(Disk.exists(Disk.bytes(full.path + path)), "\(path) was not written completely but is still there")
        }
    }
}
