import Foundation
import SnapTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: a backup killed with SIGKILL at any instant leaves a repository that the
/// next backup and restore work with, and the packs it uploaded are reused.
final class CrashSafetyTests: XCTestCase {
    func testBackupKilledAtRandomPointsLeavesUsableRepository() throws {
        let work = try makeTemporaryFolder("crash")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw"])
        // Small packs and chunks: many packs, so kills land between every kind of write.
        let small = ["--pack-size", "1", "--chunk-min", "64", "--chunk-avg", "128", "--chunk-max", "512"]
        try snap.expect(0, ["init"] + small)

        let source = "\(work)/src"
        for folder in 0..<4 {
            try FileManager.default.createDirectory(atPath: "\(source)/d\(folder)", withIntermediateDirectories: true)
            for file in 0..<10 {
                let bytes = seededBytes(count: 256 << 10 + file * 4099, seed: UInt64(folder * 100 + file))
                try Data(bytes).write(to: URL(fileURLWithPath: "\(source)/d\(folder)/f\(file).bin"))
            }
        }

        // How long one whole backup takes here, into a scratch repository.
        let scratch = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/scratch", "SNAP_PASSWORD": "pw"])
        try scratch.expect(0, ["init"] + small)
        let started = Date()
        try scratch.expect(0, ["backup", source, "-q"])
        let fullDuration = Date().timeIntervalSince(started)

        var rng = SplitMix64(seed: 20_261_124)
        var killedMidway = 0
        for _ in 0..<12 {
            // Kill when the backup has uploaded 0–3 new packs (seeded), plus a random delay of
            // up to a fifth of a backup: kill points spread over the whole write phase.
            let packTarget = Int(rng.next() % 4)
            let delay = Double(rng.next() % 1000) / 1000 * fullDuration * 0.2
            let packsBefore = packCount("\(work)/repo")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: SnapProcess.binary)
            process.arguments = ["backup", source, "-q"]
            process.environment = ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw", "PATH": "/usr/bin:/bin"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            while process.isRunning && packCount("\(work)/repo") < packsBefore + packTarget { usleep(500) }
            usleep(useconds_t(delay * 1_000_000))
            if process.isRunning { kill(process.processIdentifier, SIGKILL); killedMidway += 1 }
            process.waitUntilExit()
            // After every kill the repository opens and lists its snapshots.
            try snap.expect(0, ["snapshots", "-q"])
        }
        XCTAssertGreaterThanOrEqual(killedMidway, 4, "too few kills landed during the backup")

        let final = try snap.expect(0, ["backup", source, "--json"]).stdout
        let last = try XCTUnwrap(final.split(separator: "\n").last)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        let added = try XCTUnwrap(summary["data_added"] as? Int)
        let processed = try XCTUnwrap(summary["total_bytes_processed"] as? Int)
        // Some earlier runs got far enough to upload packs; the final backup reuses them.
        XCTAssertLessThan(added, processed, "packs uploaded by killed backups were not reused")

        try snap.expect(0, ["restore", "latest", "--target", "\(work)/out"])
        var comparison = TreeComparison()
        comparison.compare(Array(source.utf8), Array("\(work)/out\(source)".utf8), compareOwners: false)
        XCTAssertEqual(comparison.differences, [])
    }

    /// Complete pack files in a local repository (temporary files excluded).
    private func packCount(_ repository: String) -> Int {
        let names = FileManager.default.enumerator(atPath: "\(repository)/data")?.compactMap { $0 as? String } ?? []
        return names.filter { $0.count == 67 && !$0.contains(".tmp") }.count
    }
}
